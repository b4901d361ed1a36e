import VirtsyncCore

extension SpecValidator {
    /// Secrets: unique names, every reference and `((secret:NAME))` placeholder names a Secret
    /// document, and a Secret nothing uses is a warning. Takes the spec files to read templates
    /// kept in files.
    mutating func checkSecrets(files: [String: SpecFile]) {
        var declared: [String: SecretSpec] = [:]
        for secret in spec.secrets {
            guard let name = secret.header.name else { continue }
            if let earlier = declared[name.value] {
                reporter.error(name.location, secret.header.path + ".name",
                               "duplicate Secret name '\(name.value)'; also defined at \(earlier.header.name?.location ?? earlier.header.location)")
            } else {
                declared[name.value] = secret
            }
        }
        var used = Set<String>()
        func reference(_ name: String, at location: SourceLocation, path: String) {
            used.insert(name)
            guard declared[name] == nil, !spec.incomplete else { return }
            var message = "unknown secret \(name.quotedForMessage)"
            if let close = Suggest.closest(to: name, among: Array(declared.keys)) {
                message += "; did you mean '\(close)'?"
            } else {
                message += " (no Secret document has this name)"
            }
            reporter.error(location, path, message)
        }
        func scan(_ content: CloudInitContent?, path: String) {
            switch content {
            case .secret(let name):
                reference(name.value, at: name.location, path: path + "Secret")
            case .inline(let text, let at):
                scanTemplate(Array(text.utf8), at: at, file: at.file, path: path, reference: reference)
            case .file(let located):
                scanTemplate(files[located.value]?.bytes ?? [], at: nil, file: located.value, path: path, reference: reference)
            case nil:
                break
            }
        }
        for vm in spec.machines {
            if let password = vm.graphicsPassword {
                reference(password.value, at: password.location, path: vm.header.path + ".graphics.passwordSecret")
            }
            for disk in vm.disks {
                if let secret = disk.network?.secret { reference(secret.value, at: secret.location, path: disk.path + ".network.auth.secret") }
            }
            guard let cloudInit = vm.cloudInit else { continue }
            scan(cloudInit.userData, path: cloudInit.path + ".userData")
            scan(cloudInit.metaData, path: cloudInit.path + ".metaData")
            scan(cloudInit.networkConfig, path: cloudInit.path + ".networkConfig")
        }
        for vm in spec.machines {
            var types: [String: String] = [:]
            for (fragment, at, key) in [(vm.xmlDevices, vm.xmlDevicesAt, "devices"), (vm.xmlDomain, vm.xmlDomainAt, "domain")] {
                guard let fragment, let at, fragment.contains("((secret") else { continue }
                let path = "\(vm.header.path).xml.\(key)"
                let (placeholders, problems) = SecretObjectTemplate.scan(fragment)
                func locate(_ line: Int) -> SourceLocation { SecretTemplate.location(line: line, of: fragment.utf8, at: at, file: at.file) }
                for problem in problems {
                    reporter.error(locate(problem.line), path, problem.message)
                }
                for placeholder in placeholders {
                    let location = locate(placeholder.line)
                    reference(placeholder.name, at: location, path: path)
                    if let other = types[placeholder.name], other != placeholder.type {
                        reporter.error(location, path, "secret '\(placeholder.name)' is named as a \(other) object and as a \(placeholder.type) object; one secret is one kind of object per VM")
                    }
                    types[placeholder.name] = placeholder.type
                }
            }
        }
        for pool in spec.pools {
            if let secret = pool.authSecret { reference(secret.value, at: secret.location, path: pool.header.path + ".source.auth.secret") }
            for volume in pool.volumes {
                if let secret = volume.encryptionSecret { reference(secret.value, at: secret.location, path: volume.path + ".encryptionSecret") }
            }
        }
        for (name, secret) in declared.sorted(by: { $0.key < $1.key }) where !used.contains(name) {
            reporter.warning(secret.header.name?.location ?? secret.header.location, secret.header.path,
                             "Secret '\(name)' is not used by any VM or pool")
        }
    }

    /// Reports the placeholders of a cloud-init text given at `at` (nil: the text of `file`).
    private func scanTemplate(_ bytes: [UInt8], at: SourceLocation?, file: String, path: String,
                              reference: (String, SourceLocation, String) -> Void) {
        guard bytes.count >= SecretTemplate.open.count else { return }
        let (pieces, problems) = SecretTemplate.split(bytes)
        for problem in problems {
            reporter.error(SecretTemplate.location(line: problem.line, of: bytes, at: at, file: file), path, problem.message)
        }
        for case .secret(let name, let line) in pieces {
            reference(name, SecretTemplate.location(line: line, of: bytes, at: at, file: file), path)
        }
    }
}

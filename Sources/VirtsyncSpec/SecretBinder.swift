import VirtsyncCore

/// Puts the secrets read on this host into a desired state: each VM that waits for secrets gets
/// its display password and its cloud-init seed, or stays held with the reason when one of its
/// secrets could not be read. Pure: the values come in, a desired state goes out.
public enum SecretBinder {
    /// The secrets `desired`'s held VMs need, declared or not (an undeclared one was reported
    /// by validation already).
    public static func needed(_ desired: DesiredState) -> [SecretReference] {
        let names = Set(desired.pendingSecrets.values.flatMap { $0.uses.map(\.name) } + desired.pendingVolumeSecrets.values.map(\.name))
        return names.sorted().compactMap { desired.secrets[$0] }
    }

    /// Binds `values` (by secret name) into `desired`. `key` is the cluster's digest key, or a
    /// problem when it could not be read, which holds every VM that uses a secret.
    public static func bind(_ desired: DesiredState, values: [String: Result<SecretBytes, SecretProblem>],
                            key: Result<[UInt8], SecretProblem>) -> DesiredState {
        var out = desired
        var held = desired.held.filter { $0.reason != HeldResource.pendingReason }
        func failure(_ use: SecretUse) -> String? {
            guard let reference = desired.secrets[use.name] else {
                return "secret '\(use.name)' (\(use.field) at \(use.location)) is not declared"
            }
            switch values[use.name] {
            case .success?: return nil
            case .failure(let problem)?:
                return "secret '\(use.name)' (\(reference.source), declared at \(reference.declaredAt)), used by \(use.field) at \(use.location): \(problem.message)"
            case nil:
                return "secret '\(use.name)' (\(reference.source)), used by \(use.field) at \(use.location), was not read"
            }
        }
        // Secret objects first: a VM that opens a volume whose passphrase is unreadable, or names
        // an object whose value is, is held too.
        var heldVolumes: [String: String] = [:]
        var heldByObject: [String: [String]] = [:]
        var keyProblem: String?
        if case .failure(let problem) = key { keyProblem = "the digest key is unavailable: \(problem.message)" }
        for (volume, use) in desired.pendingVolumeSecrets.sorted(by: { $0.key < $1.key }) {
            let problems = [failure(use), keyProblem].compactMap { $0 }
            guard problems.isEmpty, case .success(let digestKey) = key, case .success(let read)? = values[use.name] else {
                if let vm = SecretObjectModel.domain(ofConsumer: volume) {
                    heldByObject[vm, default: []].append(problems.joined(separator: "; "))
                    continue
                }
                if let pool = SecretObjectModel.pool(ofConsumer: volume) {
                    // The pool's definition names the object: neither is touched.
                    held.append(HeldResource(kind: .pool, name: pool, reason: "its authentication cannot be set up: " + problems.joined(separator: "; ")))
                    continue
                }
                heldVolumes[volume] = problems.joined(separator: "; ")
                held.append(HeldResource(kind: .volume, name: volume, reason: heldVolumes[volume] ?? ""))
                continue
            }
            // A passphrase is a password: one final line break of its file is not part of it.
            let value = use.taking(read)
            let material = SecretMaterial(name: use.name, digest: SecretDigest.keyed(value.bytes, key: digestKey), value: value)
            for h in out.hosts.indices {
                for o in out.hosts[h].secretObjects.indices where out.hosts[h].secretObjects[o].consumer == volume {
                    out.hosts[h].secretObjects[o].secret = material
                }
            }
        }
        let everyDomain = desired.hosts.flatMap(\.domains) + desired.machines.map(\.domain)
        var heldByVolume = Set<String>()
        for domain in everyDomain {
            let reasons = domain.disks.compactMap { disk -> String? in
                guard disk.encryption != nil, case .volume(let p, let v) = disk.source else { return nil }
                return heldVolumes["\(p)/\(v)"].map { "its encrypted volume \(p)/\(v) cannot be opened: \($0)" }
            }
            let all = reasons + (heldByObject[domain.name] ?? [])
            if !all.isEmpty, heldByVolume.insert(domain.name).inserted {
                held.append(HeldResource(kind: .domain, name: domain.name, reason: all.joined(separator: "; ")))
            }
        }
        let resolved = values.compactMapValues { try? $0.get() }
        for (machine, pending) in desired.pendingSecrets.sorted(by: { $0.key < $1.key }) where !heldByVolume.contains(machine) {
            // One reason per secret, at its first use.
            var named = Set<String>()
            var failures = pending.uses.filter { named.insert($0.name).inserted }.compactMap(failure)
            if let problem = keyProblem { failures.append(problem) }
            guard failures.isEmpty, case .success(let digestKey) = key else {
                held.append(HeldResource(kind: .domain, name: machine, reason: failures.joined(separator: "; ")))
                continue
            }
            var password: SecretMaterial?
            if let use = pending.graphicsPassword, let value = resolved[use.name].map(use.taking) {
                password = SecretMaterial(name: use.name, digest: SecretDigest.keyed(value.bytes, key: digestKey), value: value)
            }
            let seed = pending.seed.map { CloudInitSeed.volume(machine: machine, recipe: $0, values: resolved, key: digestKey) }
            place(machine, password: password, seed: seed, in: &out)
        }
        out.pendingSecrets = [:]
        out.pendingVolumeSecrets = [:]
        out.held = held
        return out
    }

    /// Gives the VM its password and seed, wherever the normalizer put it.
    private static func place(_ machine: String, password: SecretMaterial?, seed: VolumeModel?, in desired: inout DesiredState) {
        func fill(_ domain: inout DomainModel) {
            domain.graphicsPassword = password
            guard let seed else { return }
            let placeholder = CloudInitSeed.pendingName(machine: machine)
            for i in domain.disks.indices {
                if case .volume(let pool, placeholder) = domain.disks[i].source {
                    domain.disks[i].source = .volume(pool: pool, volume: seed.name)
                }
            }
        }
        for h in desired.hosts.indices {
            guard let d = desired.hosts[h].domains.firstIndex(where: { $0.name == machine }) else { continue }
            fill(&desired.hosts[h].domains[d])
            if let seed {
                desired.hosts[h].volumes.append(seed)
                desired.hosts[h].volumes.sort { ($0.pool, $0.name) < ($1.pool, $1.name) }
            }
        }
        for m in desired.machines.indices where desired.machines[m].domain.name == machine {
            fill(&desired.machines[m].domain)
            desired.machines[m].seed = seed
        }
    }
}

extension DomainDiff {
    /// The platform fields the spec manages, compared with what the domain has: a field the
    /// spec leaves `nil` is not compared, a device the domain lacks reads as absent. Every
    /// change is `next-boot` (`boot`): virtsync changes the persistent definition and the
    /// running guest picks it up when it boots again.
    static func comparePlatform(_ wanted: DomainPlatform, _ seen: DomainPlatform, boot: Disruption,
                                add: (_ field: String, _ before: String?, _ after: String?, _ disruption: Disruption) -> Void) {
        for (field, before, after) in platformChanges(wanted, seen) { add(field, before, after, boot) }
    }

    /// `(field, before, after)` of every managed field that differs.
    static func platformChanges(_ wanted: DomainPlatform, _ seen: DomainPlatform) -> [(String, String?, String?)] {
        var out: [(String, String?, String?)] = []
        func check(_ field: String, _ before: String?, _ after: String?) { if before != after { out.append((field, before, after)) } }
        if let order = wanted.bootOrder { check("boot.order", platformText(seen.bootOrder ?? []), platformText(order)) }
        if let menu = wanted.bootMenu { check("boot.menu", String(seen.bootMenu ?? false), String(menu)) }
        if let kernel = wanted.kernel { check("kernel", (seen.kernel ?? .absent).value.map(platformText), kernel.value.map(platformText)) }
        if let secure = wanted.secureBoot { check("secureBoot", seen.secureBoot.map { String($0) }, String(secure)) }
        if let template = wanted.nvramTemplate { check("nvramTemplate", seen.nvramTemplate, template) }
        if let tpm = wanted.tpm { check("tpm", (seen.tpm ?? .absent).value.map(platformText), tpm.value.map(platformText)) }
        if let agent = wanted.guestAgent { check("guestAgent", String(seen.guestAgent ?? false), String(agent)) }
        if let rng = wanted.rng { check("rng", (seen.rng ?? .absent).value.map(platformText), rng.value.map(platformText)) }
        if let watchdog = wanted.watchdog {
            check("watchdog", (seen.watchdog ?? .absent).value.map(platformText), watchdog.value.map(platformText))
        }
        if let video = wanted.video {
            // Video memory only when the spec sets it: libvirt fills in a size of its own.
            var seenVideo = seen.video
            if video.vram == nil { seenVideo?.vram = nil }
            check("video", seenVideo.map(platformText), platformText(video))
        }
        if let tablet = wanted.tablet { check("tablet", String(seen.tablet ?? false), String(tablet)) }
        if let devices = wanted.hostDevices {
            // The order of host devices does not matter to the guest.
            let before = (seen.hostDevices ?? []).map(\.description).sorted(), after = devices.map(\.description).sorted()
            check("hostDevices", before.isEmpty ? "none" : before.joined(separator: ", "), after.isEmpty ? "none" : after.joined(separator: ", "))
        }
        return out
    }

    /// The platform fields a new domain gets, for the plan's field list.
    static func platformCreationFields(_ platform: DomainPlatform) -> [FieldChange] {
        platformChanges(platform, DomainPlatform()).compactMap { field, _, after in
            after.map { FieldChange(field: field, before: nil, after: $0, disruption: .none) }
        }
    }

    static func platformText(_ order: [BootDevice]) -> String { order.isEmpty ? "none" : order.map(\.rawValue).joined(separator: ", ") }

    static func platformText(_ kernel: KernelBoot) -> String {
        var text = kernel.path
        if let initrd = kernel.initrd { text += " initrd \(initrd)" }
        if let cmdline = kernel.cmdline { text += " cmdline \(cmdline.debugDescription)" }
        return text
    }

    static func platformText(_ tpm: TPMDevice) -> String { "\(tpm.model.rawValue) \(tpm.version.rawValue)" }

    static func platformText(_ rng: RNGDevice) -> String {
        rng.source.rawValue + (rng.bytesPerSecond.map { " \($0) bytes/s" } ?? "")
    }

    static func platformText(_ watchdog: WatchdogDevice) -> String { "\(watchdog.model.rawValue) \(watchdog.action.rawValue)" }

    static func platformText(_ video: VideoDevice) -> String { video.model.rawValue + (video.vram.map { " vram \($0)" } ?? "") }
}

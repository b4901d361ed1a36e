import VirtsyncXML
import VirtsyncCore

extension LibvirtXML {
    /// The managed platform devices over an existing `<devices>`: each device class the model
    /// manages is replaced by what the model wants, keeping an existing device that already is
    /// what the model wants as it is (its address, alias and libvirt's additions survive). A
    /// class the model leaves `nil` is not touched. A managed boot order drops the per-device
    /// `<boot order>` elements, which libvirt refuses beside `<os><boot>`.
    static func mergePlatformDevices(_ devices: inout XElement, _ platform: DomainPlatform) {
        if platform.bootOrder != nil {
            devices.children = devices.children.map { node in
                guard case .element(var device) = node else { return node }
                device.removeElements { $0.name == "boot" }
                return .element(device)
            }
        }
        replace(in: &devices, matching: isGuestAgent, wanted: platform.guestAgent.map { $0 ? [guestAgentElement()] : [] }) { _, _ in true }
        replace(in: &devices, matching: { $0.name == "input" && $0[attribute: "type"] == "tablet" },
                wanted: platform.tablet.map { $0 ? [tabletElement()] : [] }) { _, _ in true }
        replace(in: &devices, matching: { $0.name == "tpm" }, wanted: platform.tpm.map { $0.value.map { [tpmElement($0)] } ?? [] }) {
            parseTPM($0) == parseTPM($1)
        }
        replace(in: &devices, matching: { $0.name == "rng" }, wanted: platform.rng.map { $0.value.map { [rngElement($0)] } ?? [] }) {
            parseRNG($0) == parseRNG($1)
        }
        replace(in: &devices, matching: { $0.name == "watchdog" },
                wanted: platform.watchdog.map { $0.value.map { [watchdogElement($0)] } ?? [] }) { parseWatchdog($0) == parseWatchdog($1) }
        if let video = platform.video {
            replace(in: &devices, matching: { $0.name == "video" }, wanted: [videoElement(video)]) { existing, _ in
                guard let seen = parseVideo(existing) else { return false }
                return seen.model == video.model && (video.vram == nil || seen.vram == video.vram)
            }
        }
        replace(in: &devices, matching: { $0.name == "hostdev" && parseHostDevice($0) != nil },
                wanted: platform.hostDevices.map { $0.map(hostDeviceElement) }) { parseHostDevice($0) == parseHostDevice($1) }
    }

    /// Replaces the elements `matching` selects with `wanted` (nothing happens when it is
    /// `nil`), reusing an existing element for each wanted one that `same` says it already is.
    private static func replace(in devices: inout XElement, matching: (XElement) -> Bool, wanted: [XElement]?,
                                same: (_ existing: XElement, _ wanted: XElement) -> Bool) {
        guard let wanted else { return }
        var existing = devices.elements.filter(matching)
        var result: [XElement] = []
        for element in wanted {
            if let index = existing.firstIndex(where: { same($0, element) }) {
                result.append(existing.remove(at: index))
            } else {
                result.append(element)
            }
        }
        devices.removeElements(where: matching)
        for element in result { devices.append(element) }
    }
}

import VirtsyncCore

extension DomainPlatform {
    /// What libvirt's definition holds after an update: the managed fields of `self`, and what
    /// the old definition had for the fields `self` leaves unmanaged.
    func keeping(_ old: DomainPlatform?) -> DomainPlatform {
        guard let old else { return self }
        return DomainPlatform(bootOrder: bootOrder ?? old.bootOrder, bootMenu: bootMenu ?? old.bootMenu, kernel: kernel ?? old.kernel,
                              secureBoot: secureBoot ?? old.secureBoot, nvramTemplate: nvramTemplate ?? old.nvramTemplate,
                              tpm: tpm ?? old.tpm, guestAgent: guestAgent ?? old.guestAgent, rng: rng ?? old.rng,
                              watchdog: watchdog ?? old.watchdog, video: video ?? old.video, tablet: tablet ?? old.tablet,
                              hostDevices: hostDevices ?? old.hostDevices)
    }
}

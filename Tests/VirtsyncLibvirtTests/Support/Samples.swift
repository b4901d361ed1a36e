/// Persistent XML as the QEMU driver of libvirt 9 reports it for `Models.fullDomain` defined by
/// virtsync (addresses, controllers, generated MAC, other applications' metadata, an old extra
/// fragment recorded in the marker), for parser and merge tests without a daemon.
enum Samples {
    static let qemuDomain = """
    <domain type='kvm'>
      <name>web-1</name>
      <uuid>6c3b1d52-1f0e-4c2a-9e1a-0d2f4b6a8c10</uuid>
      <metadata>
        <libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0">
          <libosinfo:os id="http://debian.org/debian/12"/>
        </libosinfo:libosinfo>
        <virtsync:managed xmlns:virtsync="https://virtsync.dev/xmlns/domain/1" spec-digest="old" commit="0ld" extra-digest="1234" extra-device-elements="rng"/>
      </metadata>
      <memory unit='KiB'>1048576</memory>
      <currentMemory unit='KiB'>524288</currentMemory>
      <vcpu placement='static' current='2'>4</vcpu>
      <resource>
        <partition>/machine</partition>
      </resource>
      <os>
        <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
        <loader readonly='yes' type='rom'>/usr/share/qemu/qboot.rom</loader>
        <boot dev='hd'/>
      </os>
      <cpu mode='host-passthrough' check='none' migratable='on'/>
      <clock offset='utc'/>
      <on_poweroff>destroy</on_poweroff>
      <on_reboot>restart</on_reboot>
      <on_crash>destroy</on_crash>
      <devices>
        <emulator>/usr/bin/qemu-system-x86_64</emulator>
        <disk type='volume' device='disk'>
          <driver name='qemu' type='qcow2'/>
          <source pool='images' volume='web-1-root.qcow2'/>
          <target dev='vda' bus='virtio'/>
          <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
        </disk>
        <disk type='file' device='cdrom'>
          <source file='/srv/iso/install.iso'/>
          <target dev='sda' bus='sata'/>
          <readonly/>
          <address type='drive' controller='0' bus='0' target='0' unit='0'/>
        </disk>
        <disk type='file' device='disk'>
          <source file='/srv/data/web-1.raw'/>
          <target dev='sdb' bus='scsi'/>
          <readonly/>
          <address type='drive' controller='0' bus='0' target='0' unit='1'/>
        </disk>
        <disk type='block' device='lun'>
          <source dev='/dev/mapper/passthrough'/>
          <target dev='vdz' bus='virtio'/>
        </disk>
        <controller type='usb' index='0' model='qemu-xhci' ports='15'>
          <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
        </controller>
        <controller type='sata' index='0'>
          <address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/>
        </controller>
        <controller type='pci' index='0' model='pcie-root'/>
        <controller type='scsi' index='0' model='lsilogic'>
          <address type='pci' domain='0x0000' bus='0x01' slot='0x01' function='0x0'/>
        </controller>
        <interface type='network'>
          <mac address='52:54:00:12:34:56'/>
          <source network='default'/>
          <model type='virtio'/>
          <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
        </interface>
        <interface type='bridge'>
          <mac address='52:54:00:9a:bc:de'/>
          <source bridge='br0'/>
          <model type='e1000'/>
          <link state='down'/>
          <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
        </interface>
        <serial type='pty'>
          <target type='isa-serial' port='0'>
            <model name='isa-serial'/>
          </target>
        </serial>
        <console type='pty'>
          <target type='serial' port='0'/>
        </console>
        <input type='mouse' bus='ps2'/>
        <input type='keyboard' bus='ps2'/>
        <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>
          <listen type='address' address='127.0.0.1'/>
        </graphics>
        <video>
          <model type='vga' vram='16384' heads='1' primary='yes'/>
          <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
        </video>
        <memballoon model='virtio'>
          <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>
        </memballoon>
        <rng model='virtio'>
          <backend model='random'>/dev/urandom</backend>
          <address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>
        </rng>
      </devices>
      <seclabel type='dynamic' model='apparmor' relabel='yes'/>
    </domain>
    """

    /// The live XML of the same domain while it runs, ballooned down and with a link changed.
    static let qemuLiveDomain = """
    <domain type='kvm' id='7'>
      <name>web-1</name>
      <memory unit='KiB'>1048576</memory>
      <currentMemory unit='KiB'>262144</currentMemory>
      <vcpu placement='static' current='3'>4</vcpu>
      <devices>
        <interface type='network'>
          <mac address='52:54:00:12:34:56'/>
          <source network='default' portid='1c0f' bridge='virbr0'/>
          <target dev='vnet3'/>
          <model type='virtio'/>
          <link state='down'/>
          <alias name='net0'/>
        </interface>
        <interface type='bridge'>
          <mac address='52:54:00:9A:BC:DE'/>
          <source bridge='br0'/>
          <target dev='vnet4'/>
          <model type='e1000'/>
          <alias name='net1'/>
        </interface>
      </devices>
    </domain>
    """
}

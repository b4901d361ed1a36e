import CLibvirt
import VirtsyncCore

extension LibvirtSession {
    /// Sets the traffic shaping of a running guest's interface (found by MAC) with
    /// `virDomainSetInterfaceParameters`: all six values at once, so a peak or burst the model
    /// no longer has goes, and a direction without an average is no longer shaped.
    static func setInterfaceBandwidth(_ domain: LibvirtObject, mac: String, _ bandwidth: InterfaceBandwidth, flags: UInt32,
                                      _ operation: String, _ call: LibvirtCall) throws {
        var params: UnsafeMutablePointer<virTypedParameter>?
        var count: Int32 = 0
        var capacity: Int32 = 0
        defer { virTypedParamsFree(params, count) }
        for (name, kib) in bandwidth.parameters {
            guard virTypedParamsAddUInt(&params, &count, &capacity, name, UInt32(clamping: kib)) == 0 else { throw call.error(operation) }
        }
        try call.check(virDomainSetInterfaceParameters(domain.pointer, mac, params, count, flags), operation)
    }
}

/// The rules of a VM's escape hatch (`xml.domain`, `xml.devices`), for tools that write specs.
public enum EscapeHatch {
    /// The elements of a `xml.domain` fragment that validation refuses (the model owns them).
    public static func refused(inDomain fragment: String) -> [String] {
        DocumentDecoder.elementNames(in: fragment).filter(DocumentDecoder.modelDomainElements.contains)
    }

    /// The elements of a `xml.devices` fragment that validation refuses.
    public static func refused(inDevices fragment: String) -> [String] {
        DocumentDecoder.elementNames(in: fragment).filter(DocumentDecoder.modelDeviceElements.contains)
    }
}

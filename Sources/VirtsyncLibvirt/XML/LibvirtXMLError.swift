import VirtsyncXML

/// Why a libvirt XML document could not be parsed into the model.
public typealias LibvirtXMLError = XMLParseError

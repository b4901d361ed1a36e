import CLibvirt
import Foundation
import VirtsyncCore
import VirtsyncEngine
import VirtsyncXML

extension LibvirtXML {
    /// A secret object's definition: private (libvirt never shows its value), persistent, its
    /// usage, virtsync's marker as its description.
    static func secret(_ model: SecretObjectModel) -> String {
        let usage: XElement
        switch model.usage {
        case .volume(let path):
            usage = XElement("usage", [("type", "volume")], children: [.element(XElement("volume", text: path))])
        case .named(let type, let id):
            usage = XElement("usage", [("type", type)], children: [.element(XElement(type == "iscsi" ? "target" : "name", text: id))])
        }
        return XElement("secret", [("ephemeral", "no"), ("private", "yes")], children: [
            .element(XElement("uuid", text: model.uuid)),
            .element(XElement("description", text: model.marker)),
            .element(usage),
        ]).serialized()
    }

    /// A secret object read back.
    static func parseSecret(_ xml: String) throws(LibvirtXMLError) -> ObservedSecretObject {
        let root = try XMLParser.parse(xml)
        guard root.name == "secret", let uuid = root.child("uuid")?.text.trimmingCharacters(in: .whitespacesAndNewlines), !uuid.isEmpty else {
            throw LibvirtXMLError(message: "expected <secret> with a <uuid>")
        }
        let usage = root.child("usage")
        let volume = usage?[attribute: "type"] == "volume" ? usage?.child("volume")?.text : nil
        return ObservedSecretObject(uuid: uuid.lowercased(), usageVolume: volume,
                                    marker: root.child("description").flatMap { ObservedSecretObject.Marker(description: $0.text) })
    }

    /// `<encryption format='luks'><secret type='passphrase' uuid='…'/></encryption>`.
    static func encryptionElement(_ uuid: String) -> XElement {
        XElement("encryption", [("format", "luks")], children: [.element(XElement("secret", [("type", "passphrase"), ("uuid", uuid)]))])
    }

    /// The secret UUID of an `<encryption>` element, if it is LUKS with one.
    static func encryptionUUID(_ element: XElement?) -> String? {
        guard let element, element[attribute: "format"] == "luks" else { return nil }
        return element.child("secret")?[attribute: "uuid"]?.lowercased()
    }
}

extension LibvirtSession {
    /// Every secret object of the host; none on a driver without secrets (the test driver).
    static func readSecrets(_ call: LibvirtCall) throws -> [ObservedSecretObject] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = virConnectListAllSecrets(call.conn, &list, 0)
        if count < 0 {
            let failure = call.error("list secrets")
            if LibvirtErrors.isUnsupported(failure) { return [] }
            throw failure
        }
        return try takeList(list, count: count, kind: .secret).compactMap { secret in
            guard let xml = takeString(virSecretGetXMLDesc(secret.pointer, 0)) else {
                let failure = call.error("read a secret")
                if failure.code == .notFound { return nil }
                throw failure
            }
            return try parsing("a secret object") { () throws(LibvirtXMLError) in try LibvirtXML.parseSecret(xml) }
        }
    }

    /// `create` and `update`: define the object and set its value (an object of the same UUID
    /// that virtsync made is given the value again; anyone else's is refused). `delete`:
    /// undefine virtsync's object; one that is gone is fine.
    func applySecretObject(_ step: PlanStep) async throws {
        let operation = "\(step.action.rawValue) secret object \(step.resource.name)"
        switch step.action {
        case .create, .update:
            guard case .secretObject(let model) = step.payload else { throw missingPayload(step) }
            guard let value = model.secret.value else {
                throw HypervisorError(code: .other, message: "the secret \(model.secret.name) was not read on this host", operation: operation)
            }
            try await run(operation) { call in
                if let existing = virSecretLookupByUUIDString(call.conn, model.uuid) {
                    let object = LibvirtObject(existing, .secret)
                    let xml = takeString(virSecretGetXMLDesc(object.pointer, 0)) ?? ""
                    guard (try? LibvirtXML.parseSecret(xml))?.marker != nil else {
                        throw HypervisorError(code: .rejected, message: "a secret object with UUID \(model.uuid) exists and is not virtsync's",
                                              operation: operation)
                    }
                }
                guard let pointer = virSecretDefineXML(call.conn, LibvirtXML.secret(model), 0) else { throw call.error(operation) }
                let secret = LibvirtObject(pointer, .secret)
                let result = value.bytes.withUnsafeBufferPointer { buffer in
                    virSecretSetValue(secret.pointer, buffer.baseAddress, buffer.count, 0)
                }
                if result < 0 {
                    let failure = call.error(operation)
                    _ = virSecretUndefine(secret.pointer)
                    throw failure
                }
            }
        case .delete:
            try await run(operation) { call in
                guard let pointer = virSecretLookupByUUIDString(call.conn, SecretObjectModel.uuid(consumer: step.resource.name)) else {
                    let failure = call.error(operation)
                    if failure.code == .notFound { return }
                    throw failure
                }
                let secret = LibvirtObject(pointer, .secret)
                let xml = takeString(virSecretGetXMLDesc(secret.pointer, 0)) ?? ""
                guard (try? LibvirtXML.parseSecret(xml))?.marker != nil else {
                    throw HypervisorError(code: .rejected, message: "the secret object is not virtsync's", operation: operation)
                }
                try call.check(virSecretUndefine(secret.pointer), operation)
            }
        default:
            throw HypervisorError(code: .rejected, message: "a secret object is created, updated or deleted", operation: operation)
        }
    }
}

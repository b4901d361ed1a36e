import CLibvirt
import Foundation
import VirtsyncCore
import VirtsyncEngine

extension LibvirtSession {
    /// Runs `body`, which writes a new volume's content; any failure becomes an `.incomplete`
    /// error, so the executor keeps the volume unconfirmed instead of forgetting it.
    static func fillingContent(_ operation: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as HypervisorError {
            throw HypervisorError(code: .incomplete, libvirtCode: error.libvirtCode,
                                  message: "the content did not arrive (\(error.message))", operation: operation)
        } catch {
            throw HypervisorError(code: .incomplete, message: "the content did not arrive (\(error))", operation: operation)
        }
    }

    /// The volume to create before an image is streamed into it: as large as the image's disk
    /// (a qcow2's virtual size), grown afterwards to the spec's size.
    /// - Throws: `.other` when the image was not fetched; `.rejected` when the image's disk is
    ///   larger than the size the spec asks for (virtsync never shrinks an image).
    static func imageShell(_ model: VolumeModel, _ operation: String) throws -> VolumeModel {
        guard let local = model.localImage else {
            throw HypervisorError(code: .other, message: "the image was not fetched before the volume was made", operation: operation)
        }
        if model.capacity.bytes > 0 && model.capacity.bytes < local.virtualSize {
            throw HypervisorError(code: .rejected,
                                  message: "the image's disk is \(ByteSize(bytes: local.virtualSize)), larger than the size \(model.capacity) the spec asks for",
                                  operation: operation)
        }
        var shell = model
        shell.capacity = ByteSize(bytes: local.virtualSize)
        return shell
    }

    /// Writes a new volume's content: a generated seed from memory, an image from its verified
    /// local copy (then grows the volume to the spec's size).
    static func fill(_ model: VolumeModel, into volume: LibvirtObject, _ operation: String, _ call: LibvirtCall,
                     progress: TransferProgressSink?) throws {
        switch model.source {
        case .generated:
            if let content = model.content { try upload(content, to: volume, operation, call) }
        case .image:
            guard let local = model.localImage else {
                throw HypervisorError(code: .other, message: "the image was not fetched", operation: operation)
            }
            try upload(file: local.path, length: local.length, to: volume, subject: model.key, operation, call, progress: progress)
            if model.capacity.bytes > local.virtualSize {
                try call.check(virStorageVolResize(volume.pointer, model.capacity.bytes, 0), operation)
            }
        case .blank, .backing, .clone:
            break
        }
    }

    /// Streams `length` bytes of the file at `path` into a volume, from its start.
    static func upload(file path: String, length: UInt64, to volume: LibvirtObject, subject: String, _ operation: String,
                       _ call: LibvirtCall, progress: TransferProgressSink?) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw HypervisorError(code: .other, message: "cannot read the image copy \(path)", operation: operation)
        }
        defer { try? handle.close() }
        guard let pointer = virStreamNew(call.conn, 0) else { throw call.error(operation) }
        let stream = LibvirtObject(pointer, .stream)
        try call.check(virStorageVolUpload(volume.pointer, stream.pointer, 0, length, 0), operation)
        var sent: UInt64 = 0
        var reported = ContinuousClock.now
        progress?(TransferProgress(phase: .upload, subject: subject, done: 0, total: length))
        while sent < length {
            let want = Int(min(UInt64(1 << 20), length - sent))
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: want) ?? Data()
            } catch {
                _ = virStreamAbort(stream.pointer)
                throw HypervisorError(code: .other, message: "reading the image copy \(path): \(error)", operation: operation)
            }
            guard !chunk.isEmpty else {
                _ = virStreamAbort(stream.pointer)
                throw HypervisorError(code: .other, message: "the image copy \(path) ended after \(sent) of \(length) bytes", operation: operation)
            }
            try chunk.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                var offset = 0
                while offset < buffer.count {
                    let data = base.advanced(by: offset).assumingMemoryBound(to: CChar.self)
                    let n = virStreamSend(stream.pointer, data, buffer.count - offset)
                    if n < 0 {
                        let error = call.error(operation)
                        _ = virStreamAbort(stream.pointer)
                        throw error
                    }
                    offset += Int(n)
                }
            }
            sent += UInt64(chunk.count)
            if let progress, ContinuousClock.now - reported > .milliseconds(200) || sent == length {
                reported = ContinuousClock.now
                progress(TransferProgress(phase: .upload, subject: subject, done: sent, total: length))
            }
        }
        try call.check(virStreamFinish(stream.pointer), operation)
    }
}

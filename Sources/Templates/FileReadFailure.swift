import Foundation

/// Why reading a template file (or listing its folder) failed, in words an operator can act on.
enum FileReadFailure {
    /// Why a read failed, in words. Foundation describes every failed read as "The operation could
    /// not be completed. (NSCocoaErrorDomain error 256.)"; the cause is the POSIX error under it.
    /// Running out of descriptors is named as such, since the file itself is fine.
    static func reason(_ error: any Error) -> String {
        func posixCode(_ error: any Error) -> Int32? {
            if let posix = error as? POSIXError { return posix.code.rawValue }
            let bridged = error as NSError
            return bridged.domain == NSPOSIXErrorDomain ? Int32(bridged.code) : nil
        }
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error
        guard let code = posixCode(error) ?? underlying.flatMap(posixCode) else { return error.localizedDescription }
        switch code {
        case EMFILE:
            return "too many open files (EMFILE): the gateway has used up its file descriptors (the file itself may be fine); "
                + "check the open-file limit logged at start-up and http_max_connections"
        case ENFILE:
            return "too many open files on this machine (ENFILE): the system's file table is full (the file itself may be fine)"
        default:
            return String(cString: strerror(code))
        }
    }
}

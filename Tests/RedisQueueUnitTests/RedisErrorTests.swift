import Foundation
import Testing
@testable import RedisQueue

/// Error replies carry Redis's code as a value the gateway matches on, never a message prefix.
@Suite struct RedisErrorTests {
    @Test(arguments: [
        ("NOGROUP No such key 'jobs' or consumer group 'gateway' in XREADGROUP with GROUP option", RedisError.ServerCode.noGroup),
        ("BUSYGROUP Consumer Group name already exists", .busyGroup),
        ("NOSCRIPT No matching script. Please use EVAL.", .noScript),
        ("WRONGTYPE Operation against a key holding the wrong kind of value", .wrongType),
        ("READONLY You can't write against a read only replica.", .readOnly),
        ("LOADING Redis is loading the dataset in memory", .loading),
        ("OOM command not allowed when used memory > 'maxmemory'.", .outOfMemory),
        ("ERR unknown command 'FOO'", .other("ERR")),
        ("", .other("")),
    ])
    func theCodeIsTheFirstWordOfTheReply(message: String, code: RedisError.ServerCode) {
        #expect(RedisError.ServerCode(message) == code)
        #expect(RedisError.server(message, context: "XADD s").serverCode == code)
        #expect(RedisError.server(message, context: "XADD s").message == "XADD s: \(message)")
        #expect(RESPValue.error(message).errorCode == code)
        #expect(RESPValue.status("OK").errorCode == nil)
    }
}

import Testing
@testable import GatewayHTTP

@Suite struct PathDecodingTests {
    @Test func segmentsDecodeOnce() {
        #expect(PathSegment.decode("a%2541") == .success("a%41"))   // %25 is '%'; not decoded a second time
        #expect(PathSegment.decode("plain-ID_1.x~") == .success("plain-ID_1.x~"))
        #expect(PathSegment.decode("%e2%82%ac") == .success("€"))
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import XCTest
@testable import StudioCredentials

/// The aws-c-auth `aws-signing-test-suite/v4` vectors (docs/aws.md#request-signing-sigv4) plus the S3 and SQS examples.
final class AWSSignerTests: XCTestCase {
    static let suiteCredentials = AWSCredentials(
        accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160) // 2015-08-30T12:36:00Z
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    func suiteSigner(normalize: Bool = true, token: String? = nil) -> AWSSigner {
        var credentials = Self.suiteCredentials
        credentials.sessionToken = token
        var signer = AWSSigner(credentials: credentials, region: "us-east-1", service: "service")
        signer.normalizesPath = normalize
        return signer
    }

    /// One suite case: request line and headers in, expected canonical request and header/query signatures out.
    struct Vector {
        var name: String
        var method = "GET"
        var path: String
        var headers: [HTTPHeaderField] = [("Host", "example.amazonaws.com")]
        var normalize = true
        var canonicalURI: String? = nil
        var canonicalQuery = ""
        var extraCanonicalHeaders: [String] = []
        var signature: String
        var querySignature: String
    }

    static let vectors: [Vector] = [
        Vector(name: "get-vanilla", path: "/",
               signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
               querySignature: "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"),
        Vector(name: "post-vanilla", method: "POST", path: "/",
               signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
               querySignature: "2ce6e6d2e0cf2f9d1b55fafec88cd20574c31dc2e7631979f71ba2310083e95b"),
        Vector(name: "post-vanilla-query", method: "POST", path: "/?Param1=value1", canonicalURI: "/",
               canonicalQuery: "Param1=value1",
               signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
               querySignature: "a9ef26247f293bffe40eeff86a0480ba8c14d31503b2e0c3399e3a16bf1a3682"),
        Vector(name: "get-vanilla-query-order-key-case", path: "/?Param2=value2&Param1=value1", canonicalURI: "/",
               canonicalQuery: "Param1=value1&Param2=value2",
               signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
               querySignature: "86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5"),
        Vector(name: "get-vanilla-query-order-encoded", path: "/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
               canonicalURI: "/", canonicalQuery: "%E1%88%B4=Value1&Param=Value2&Param-3=Value3",
               signature: "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
               querySignature: "c5f1848ceec943ac2ca68ee720460c23aaae30a2300586597ada94c4a65e4787"),
        Vector(name: "get-vanilla-query-unreserved",
               path: "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
               canonicalURI: "/",
               canonicalQuery: "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
               signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
               querySignature: "8e76a88a7433637b12778d5592799b29ad21ecd6cf6325051c21d86f0acda2bf"),
        Vector(name: "get-vanilla-utf8-query", path: "/?\u{1234}=bar", canonicalURI: "/", canonicalQuery: "%E1%88%B4=bar",
               signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
               querySignature: "0bdd809b1519ac4f0c1dc3540e2cc46bd0c7f778eda408b2ebf3b913d21ff600"),
        Vector(name: "get-header-key-duplicate", path: "/",
               headers: [("Host", "example.amazonaws.com"), ("My-Header1", "value2"), ("My-Header1", "value2"),
                         ("My-Header1", "value1")],
               extraCanonicalHeaders: ["my-header1:value2,value2,value1"],
               signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
               querySignature: "3349ee0b81b4b589da0ff28a395c3591e04de515651dd74f298fa992d1507a97"),
        Vector(name: "get-header-value-multiline", path: "/",
               headers: [("Host", "example.amazonaws.com"), ("My-Header1", "value1\n  value2\n     value3")],
               extraCanonicalHeaders: ["my-header1:value1 value2 value3"],
               signature: "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd",
               querySignature: "e6f5def831211aca02987a44b96826706278c7bc078112ae0263659c5b2f2d56"),
        Vector(name: "get-header-value-order", path: "/",
               headers: [("Host", "example.amazonaws.com"), ("My-Header1", "value4"), ("My-Header1", "value1"),
                         ("My-Header1", "value3"), ("My-Header1", "value2")],
               extraCanonicalHeaders: ["my-header1:value4,value1,value3,value2"],
               signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
               querySignature: "313720e71ca6202fdcfa9b20f88de01a4eb0638a83c833b1c184359a4eda864e"),
        Vector(name: "get-header-value-trim", path: "/",
               headers: [("Host", "example.amazonaws.com"), ("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
               extraCanonicalHeaders: ["my-header1:value1", "my-header2:\"a b c\""],
               signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
               querySignature: "e7bb0fd515e125e1aec2ecc4c0c17484fb06f6846b927c35e46005dd3df3acd4"),
        Vector(name: "post-header-key-sort", method: "POST", path: "/",
               headers: [("Host", "example.amazonaws.com"), ("My-Header1", "value1")],
               extraCanonicalHeaders: ["my-header1:value1"],
               signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
               querySignature: "c09d07e0d55871f10f2a6d350d994acf6825a3cae70673d7def55616e6119dd7"),
        Vector(name: "post-header-value-case", method: "POST", path: "/",
               headers: [("Host", "example.amazonaws.com"), ("My-Header1", "VALUE1")],
               extraCanonicalHeaders: ["my-header1:VALUE1"],
               signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
               querySignature: "0698bc9e4f7f9139065ba2909c0e99da257e8e2a42492a097bcd46d792391fed"),
        Vector(name: "get-relative-normalized", path: "/example/..", canonicalURI: "/",
               signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
               querySignature: "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"),
        Vector(name: "get-relative-unnormalized", path: "/example/..", normalize: false,
               signature: "eca7ead57bb5aa5c8e28007acd4ff04e1ff9a0ff3b237ec1554a184887ff9282",
               querySignature: "cbcb213b928a077e43275df47b500f1dfaa864ab3f5a18f6b95f4ff0938167ee"),
        Vector(name: "get-relative-relative-normalized", path: "/example1/example2/../..", canonicalURI: "/",
               signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
               querySignature: "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"),
        Vector(name: "get-relative-relative-unnormalized", path: "/example1/example2/../..", normalize: false,
               signature: "dc33e0856fd4baca4d7aa2146c38958283844764f38c74252a333df5e613003b",
               querySignature: "b45db0bfd1cf15003493b733e33aa208dd981bd0e63037a6ed953f71d2118a16"),
        Vector(name: "get-slash-dot-slash-normalized", path: "/./", canonicalURI: "/",
               signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
               querySignature: "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"),
        Vector(name: "get-slash-dot-slash-unnormalized", path: "/./", normalize: false,
               signature: "68714168e6557f8f2de0ef956fc24dc2593a4bd2961f8df51898d8a134695145",
               querySignature: "a9b13e8f3484d9505bf1a6f347219f8f35b0fe8f128ceea597efc146a3dfe90c"),
        Vector(name: "get-slash-normalized", path: "//", canonicalURI: "/",
               signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
               querySignature: "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"),
        Vector(name: "get-slash-unnormalized", path: "//", normalize: false,
               signature: "c88bcd3d312d75078c0cd961d6deae3f4c754924b01669efcfcb439fd5e5b76e",
               querySignature: "b2a9542809db687769200f56a844a03f2bd0291d6eb90232d5101c6a579446cd"),
        Vector(name: "get-slash-pointless-dot-normalized", path: "/./example", canonicalURI: "/example",
               signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
               querySignature: "35034b1a0bdd969f346975386daf8aedfd4976573b8348cf4f67eaa41c5857de"),
        Vector(name: "get-slash-pointless-dot-unnormalized", path: "/./example", normalize: false,
               signature: "beb03f223f7deae4146464f06e29eebbee9c8afbe15c290cf07aa8b119e14cff",
               querySignature: "72b11f16d9530b18204bfb71f2d6ab085894c0ed8d352730a6e76234c58b5e10"),
        Vector(name: "get-slashes-normalized", path: "//example//", canonicalURI: "/example/",
               signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
               querySignature: "c1834e8fb0307243711f0f907f6ab7311ed300d87f13792d7ee4da89ab93e082"),
        Vector(name: "get-slashes-unnormalized", path: "//example//", normalize: false,
               signature: "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5",
               querySignature: "822a5a9ba28072c5ab2bb4a6307d0c88276d40e49fec6b724c03fb4d4ba60fc2"),
        Vector(name: "get-space-normalized", path: "/example space/", canonicalURI: "/example%20space/",
               signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
               querySignature: "7a1f416954786484c9824d93c1f26ef64acb9b1b6c9154d08c9f07d0e394abf6"),
        Vector(name: "get-unreserved", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
               signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
               querySignature: "95968482db1b9e0fadef6efc1bd24689f77c77d9ef56919c96a28cc92e0d6005"),
        Vector(name: "get-utf8", path: "/\u{1234}", canonicalURI: "/%E1%88%B4",
               signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
               querySignature: "10eae3f14a260bd3911cc6d008d3c576d143b05b62f09782a7a4b37f52178e44"),
    ]

    func testSuiteVectorsHeaderForm() throws {
        for vector in Self.vectors {
            let signer = suiteSigner(normalize: vector.normalize)
            let signed = try signer.sign(method: vector.method, url: "https://example.amazonaws.com" + vector.path,
                                         headers: vector.headers, date: Self.suiteDate)
            let headerLines = (["host:example.amazonaws.com"] + vector.extraCanonicalHeaders + ["x-amz-date:20150830T123600Z"])
            let signedNames = headerLines.map { String($0.prefix { $0 != ":" }) }.joined(separator: ";")
            let expected = [vector.method, vector.canonicalURI ?? vector.path, vector.canonicalQuery]
                + headerLines + ["", signedNames, Self.emptyHash]
            XCTAssertEqual(signed.canonicalRequest, expected.joined(separator: "\n"), vector.name)
            XCTAssertEqual(signed.signature, vector.signature, vector.name)
        }
    }

    func testSuiteVectorsQueryForm() throws {
        for vector in Self.vectors {
            let signer = suiteSigner(normalize: vector.normalize)
            let presigned = try signer.presign(method: vector.method, url: "https://example.amazonaws.com" + vector.path,
                                               headers: vector.headers, expires: 3600, date: Self.suiteDate)
            XCTAssertEqual(presigned.signature, vector.querySignature, vector.name)
            XCTAssertTrue(presigned.url.hasSuffix("&X-Amz-Signature=" + vector.querySignature), vector.name)
        }
    }

    func testGetVanillaExactIntermediates() throws {
        let signed = try suiteSigner().sign(method: "GET", url: "https://example.amazonaws.com/", date: Self.suiteDate)
        XCTAssertEqual(signed.canonicalRequest, """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(signed.stringToSign, """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """)
        XCTAssertEqual(signed.value(forHeader: "authorization"),
                       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                       + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        XCTAssertEqual(signed.value(forHeader: "X-Amz-Date"), "20150830T123600Z")
        XCTAssertNil(signed.value(forHeader: "X-Amz-Security-Token"))
        XCTAssertNil(signed.value(forHeader: "x-amz-content-sha256"))
    }

    func testDerivedSigningKey() {
        let key = suiteSigner().signingKey(date: Self.suiteDate)
        XCTAssertEqual(key.withUnsafeBytes { Encoding.hex($0) },
                       "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75")
    }

    func testSessionTokenIsSigned() throws {
        let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
        let signed = try suiteSigner(token: token).sign(method: "GET", url: "https://example.amazonaws.com/",
                                                        date: Self.suiteDate)
        XCTAssertEqual(Encoding.sha256Hex(Array(signed.canonicalRequest.utf8)),
                       "067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b")
        XCTAssertEqual(signed.signedHeaders, "host;x-amz-date;x-amz-security-token")
        XCTAssertEqual(signed.signature, "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8")
        XCTAssertEqual(signed.value(forHeader: "X-Amz-Security-Token"), token)

        let presigned = try suiteSigner(token: token).presign(method: "GET", url: "https://example.amazonaws.com/",
                                                              expires: 3600, date: Self.suiteDate)
        XCTAssertEqual(presigned.signature, "7ff2b50b376cb4d151970630573d6291dc128cc5c2a12ffb237f73cc53f67b6c")
        XCTAssertTrue(presigned.url.contains("X-Amz-Security-Token=" + token))
    }

    static let stsToken = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

    func testSessionTokenBeforeAndAfterSigning() throws {
        let before = try suiteSigner(token: Self.stsToken).sign(method: "POST", url: "https://example.amazonaws.com/",
                                                                date: Self.suiteDate)
        XCTAssertEqual(before.signature, "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")

        var after = suiteSigner(token: Self.stsToken)
        after.signsSessionToken = false
        let signed = try after.sign(method: "POST", url: "https://example.amazonaws.com/", date: Self.suiteDate)
        XCTAssertEqual(signed.signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
        XCTAssertEqual(signed.signedHeaders, "host;x-amz-date")
        XCTAssertEqual(signed.value(forHeader: "x-amz-security-token"), Self.stsToken)
    }

    func testPostWithSignedBody() throws {
        let body = Array("Param1=value1".utf8)
        var signer = suiteSigner()
        signer.addsContentSHA256Header = true
        let signed = try signer.sign(
            method: "POST", url: "https://example.amazonaws.com/",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Host", "example.amazonaws.com"),
                      ("Content-Length", "13")],
            payload: .sha256(of: body), date: Self.suiteDate)
        XCTAssertEqual(signed.value(forHeader: "x-amz-content-sha256"),
                       "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        XCTAssertEqual(signed.signedHeaders, "content-length;content-type;host;x-amz-content-sha256;x-amz-date")
        XCTAssertEqual(Encoding.sha256Hex(Array(signed.canonicalRequest.utf8)),
                       "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb")
        XCTAssertEqual(signed.signature, "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b")

        let withCharset = try signer.sign(
            method: "POST", url: "https://example.amazonaws.com/",
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                      ("Host", "example.amazonaws.com"), ("Content-Length", "13")],
            payload: .sha256(of: body), date: Self.suiteDate)
        XCTAssertEqual(withCharset.signature, "328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422")
    }

    func testHostComesFromURLWithoutDefaultPort() throws {
        let signer = suiteSigner()
        let implicit = try signer.sign(method: "GET", url: "https://example.amazonaws.com:443/", date: Self.suiteDate)
        XCTAssertEqual(implicit.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        XCTAssertNil(implicit.value(forHeader: "host"), "Host is left to the HTTP client")
        let custom = try signer.sign(method: "GET", url: "http://127.0.0.1:5125/bucket", date: Self.suiteDate)
        XCTAssertTrue(custom.canonicalRequest.contains("\nhost:127.0.0.1:5125\n"))
    }

    func testUnsignedHeadersAreLeftOut() throws {
        let signed = try suiteSigner().sign(
            method: "GET", url: "https://example.amazonaws.com/",
            headers: [("User-Agent", "studio/1"), ("Expect", "100-continue"), ("X-Amz-Date", "stale")],
            date: Self.suiteDate)
        XCTAssertEqual(signed.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        XCTAssertEqual(signed.headers.filter { $0.name.lowercased() == "x-amz-date" }.map(\.value), ["20150830T123600Z"])
    }

    func testInvalidURLIsRejected() {
        XCTAssertThrowsError(try suiteSigner().sign(method: "GET", url: "example.com/x", date: Self.suiteDate)) { error in
            XCTAssertEqual((error as? CredentialsError)?.code, .invalidURL)
        }
    }

    // MARK: - S3 (AWS S3 API reference "Examples: Signature Calculations")

    static let s3Credentials = AWSCredentials(
        accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600) // 2013-05-24T00:00:00Z
    var s3Signer: AWSSigner { AWSSigner(credentials: Self.s3Credentials, region: "us-east-1", service: "s3") }

    func testS3GetObjectWithRange() throws {
        let signed = try s3Signer.sign(method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt",
                                       headers: [("Range", "bytes=0-9")], payload: .empty, date: Self.s3Date)
        XCTAssertEqual(signed.signedHeaders, "host;range;x-amz-content-sha256;x-amz-date")
        XCTAssertEqual(signed.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        XCTAssertEqual(signed.value(forHeader: "x-amz-content-sha256"), Self.emptyHash)
    }

    func testS3PutObjectEncodesPathOnce() throws {
        let body = Array("Welcome to Amazon S3.".utf8)
        XCTAssertEqual(AWSPayloadHash.sha256(of: body).value,
                       "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        for path in ["/test$file.text", "/test%24file.text"] {
            let signed = try s3Signer.sign(
                method: "PUT", url: "https://examplebucket.s3.amazonaws.com" + path,
                headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
                payload: .sha256(of: body), date: Self.s3Date)
            XCTAssertTrue(signed.canonicalRequest.hasPrefix("PUT\n/test%24file.text\n\n"), path)
            XCTAssertEqual(signed.signedHeaders, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class")
            XCTAssertEqual(signed.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd", path)
        }
    }

    func testS3BucketQueries() throws {
        let lifecycle = try s3Signer.sign(method: "GET", url: "https://examplebucket.s3.amazonaws.com/?lifecycle",
                                          date: Self.s3Date)
        XCTAssertTrue(lifecycle.canonicalRequest.hasPrefix("GET\n/\nlifecycle=\n"))
        XCTAssertEqual(lifecycle.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")

        let list = try s3Signer.sign(method: "GET", url: "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
                                     date: Self.s3Date)
        XCTAssertEqual(list.signedHeaders, "host;x-amz-content-sha256;x-amz-date")
        XCTAssertEqual(list.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    func testS3DoesNotNormalizeKeys() throws {
        let signed = try s3Signer.sign(method: "GET", url: "https://b.s3.amazonaws.com/a//b/../c%20d",
                                       payload: .unsigned, date: Self.s3Date)
        XCTAssertTrue(signed.canonicalRequest.hasPrefix("GET\n/a//b/../c%20d\n"))
        XCTAssertTrue(signed.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        XCTAssertEqual(signed.value(forHeader: "x-amz-content-sha256"), "UNSIGNED-PAYLOAD")
    }

    func testNonS3DoubleEncodesAnEncodedPath() throws {
        let signed = try suiteSigner().sign(method: "GET", url: "https://example.amazonaws.com/a%20b", date: Self.suiteDate)
        XCTAssertTrue(signed.canonicalRequest.hasPrefix("GET\n/a%2520b\n"))
    }

    func testS3PresignDefaultsToUnsignedPayload() throws {
        let presigned = try s3Signer.presign(method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt",
                                             expires: 86400, date: Self.s3Date)
        XCTAssertTrue(presigned.canonicalRequest.hasSuffix("\nhost\nUNSIGNED-PAYLOAD"))
        // The AWS S3 docs' presigned-URL example for this key and time.
        XCTAssertEqual(presigned.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    // MARK: - SQS JSON 1.0 (our regression vector, docs/aws.md#request-signing-sigv4)

    func testSQSReceiveMessage() throws {
        let body = Array(#"{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/jobs","MaxNumberOfMessages":1,"WaitTimeSeconds":20}"#.utf8)
        XCTAssertEqual(body.count, 113)
        let signer = AWSSigner(credentials: Self.suiteCredentials, region: "us-east-1", service: "sqs")
        let signed = try signer.signSQSRequest(action: "ReceiveMessage", url: "https://sqs.us-east-1.amazonaws.com/",
                                               body: body, date: Self.suiteDate)
        XCTAssertTrue(signed.canonicalRequest.hasSuffix("c5b6ead19bc5602c5cb6cf8b8c5d5876b3fb5cf47bbfb98cb461c45d203289e0"))
        XCTAssertEqual(signed.signedHeaders, "content-type;host;x-amz-date;x-amz-target")
        XCTAssertEqual(Encoding.sha256Hex(Array(signed.canonicalRequest.utf8)),
                       "fd7187e8f153844ff5b26991ecc2dc6bd07cb917f39709674981cd997d14ea7b")
        XCTAssertEqual(signed.signature, "1ddb79627a62c07a9f01dd5937ad45e41ef6e2f0dbc226041d454319c9b815e0")
        XCTAssertEqual(signed.value(forHeader: "X-Amz-Target"), "AmazonSQS.ReceiveMessage")
        XCTAssertEqual(signed.value(forHeader: "Content-Type"), "application/x-amz-json-1.0")
    }
}

import StudioCredentials
import XCTest

/// The one XML reader and the one percent-encoder that S3, SQS, STS, SigV4 and the Google clients share.
final class XMLTextAndPercentEncodingTests: XCTestCase {
    func testFirstAndEveryElementTextInOrder() {
        let document = "<R><Contents><Key>a</Key></Contents><Contents><Key>b&amp;c</Key></Contents><IsTruncated>false</IsTruncated></R>"
        XCTAssertEqual(XMLText.texts(of: "Contents", in: document).compactMap { XMLText.text(of: "Key", in: $0) }, ["a", "b&c"])
        XCTAssertEqual(XMLText.text(of: "IsTruncated", in: document), "false")
        XCTAssertNil(XMLText.text(of: "Missing", in: document))
        XCTAssertNil(XMLText.text(of: "Key", in: "<Key>never closed"))
        XCTAssertEqual(XMLText.texts(of: "Key", in: "no xml at all"), [])
    }

    func testDecodingKeepsBadEscapesAndReadsPlusOnlyInForms() {
        XCTAssertEqual(PercentEncoding.decode("a%20b+c%2F%zz%4"), "a b+c/%zz%4")
        XCTAssertEqual(PercentEncoding.decode("a%20b+c", plusIsSpace: true), "a b c")
        XCTAssertEqual(PercentEncoding.decode("x+y", plusIsSpace: true), "x y", "a plus alone is decoded too")
        XCTAssertEqual(PercentEncoding.decode("%E2%9C%93"), "✓")
    }

    func testEntitiesAreDecodedOnceAndEscapeRoundTrips() {
        XCTAssertEqual(XMLText.decodeEntities("&lt;a&gt; &quot;q&quot; &#34;&apos;&#13;&#10;"), "<a> \"q\" \"'\r\n")
        // `&amp;` is decoded last: an escaped entity stays one.
        XCTAssertEqual(XMLText.decodeEntities("&amp;lt;"), "&lt;")
        let text = "a<b>&\"c\"'"
        XCTAssertEqual(XMLText.escape(text), "a&lt;b&gt;&amp;&quot;c&quot;&apos;")
        XCTAssertEqual(XMLText.decodeEntities(XMLText.escape(text)), text)
    }

    func testPercentEncodingKeepsOnlyUnreservedBytesAndSlashesWhenAsked() {
        XCTAssertEqual(PercentEncoding.encode("AZaz09-._~", keepSlash: false), "AZaz09-._~")
        XCTAssertEqual(PercentEncoding.encode("a b/c+d=é", keepSlash: false), "a%20b%2Fc%2Bd%3D%C3%A9")
        XCTAssertEqual(PercentEncoding.encode("dir/key name", keepSlash: true), "dir/key%20name")
        XCTAssertEqual(PercentEncoding.encode("", keepSlash: true), "")
    }

    func testDecodingInvertsEncodingAndKeepsStrayPercents() {
        for text in ["a b/c+d=é", "100%", "%zz", "日本/語", "~!*'()"] {
            XCTAssertEqual(PercentEncoding.decode(PercentEncoding.encode(text, keepSlash: false)), text)
        }
        XCTAssertEqual(PercentEncoding.decode("50%"), "50%")
        XCTAssertEqual(PercentEncoding.decode("%4"), "%4")
        XCTAssertEqual(PercentEncoding.decode("%41%2f"), "A/")
    }
}

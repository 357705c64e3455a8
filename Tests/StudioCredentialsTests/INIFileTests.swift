import XCTest
@testable import StudioCredentials

final class INIFileTests: XCTestCase {
    func testSectionsCommentsWhitespaceAndSubkeys() throws {
        let text = """
            # leading comment
            ; another comment
            [default]
            aws_access_key_id=AKIDDEFAULT
              AWS_Secret_Access_Key   =   secret/with+chars   # trailing comment

            [ spaced ]\r
            region = eu-west-1 ; note
            s3 =
              addressing_style = path
            url = https://host/#anchor
            """
        let file = try INIFile.parse(text, path: "test.ini")
        XCTAssertEqual(file.sections["default"], [
            "aws_access_key_id": "AKIDDEFAULT",
            "aws_secret_access_key": "secret/with+chars",
        ])
        XCTAssertEqual(file.sections["spaced"], [
            "region": "eu-west-1", "s3": "", "s3.addressing_style": "path", "url": "https://host/#anchor",
        ])
    }

    func testErrorsNameFileAndLineButNotContent() {
        for (text, line) in [("key = value", 1), ("[ok]\nsecretline-without-equals", 2), ("[broken\n", 1)] {
            XCTAssertThrowsError(try INIFile.parse(text, path: "/x/credentials")) { error in
                let message = String(describing: error)
                XCTAssertTrue(message.hasPrefix("/x/credentials line \(line):"), message)
                XCTAssertFalse(message.contains("secretline"), message)
                XCTAssertEqual((error as? CredentialsError)?.code, .malformedFile)
            }
        }
    }
}

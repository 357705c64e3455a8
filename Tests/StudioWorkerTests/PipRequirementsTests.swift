@testable import StudioWorker
import XCTest

/// Which requirement lines reach pip: every line pip understands, plain names only when missing.
final class PipRequirementsTests: XCTestCase {
    func testKindsOfLines() {
        let named: [(String, String)] = [
            ("numpy", "numpy"), ("numpy==2.4.6", "numpy"), ("Django >= 4, <5", "Django"), ("pkg[extra]==1", "pkg"),
            ("pkg [a,b] ~= 1.2", "pkg"), ("zope.interface!=5", "zope.interface"),
            (#"tomli==2.0; python_version<"3.11""#, "tomli"), ("legacy (>=1.0)", "legacy"),
        ]
        for (line, name) in named { XCTAssertEqual(PipRequirements.kind(of: line), .named(name), line) }
        for line in ["git+https://github.com/org/repo.git@v1#egg=repo", "https://example.com/pkg-1.0.tar.gz",
                     "pkg @ https://example.com/pkg-1.0-py3-none-any.whl", "pkg@git+https://github.com/org/pkg",
                     "-e git+https://github.com/org/repo#egg=repo", "-e .", "--editable=./lib", "./local/pkg",
                     "/abs/pkg-1.0-py3-none-any.whl", "-r other.txt", "file:///wheels/pkg.whl",
                     "pkg==1.0 --hash=sha256:0123456789abcdef"] {
            XCTAssertEqual(PipRequirements.kind(of: line), .direct, line)
        }
        for line in ["--extra-index-url https://download.pytorch.org/whl/cu121", "-i https://pypi.example/simple",
                     "--index-url=https://pypi.example/simple", "--pre", "--find-links ./wheels", "-c constraints.txt"] {
            XCTAssertEqual(PipRequirements.kind(of: line), .option, line)
        }
        for line in ["pip install torch", "Install torch first", "--user", "--target /opt/x", "-U numpy", "; python_version<'3'", "numpy-"] {
            XCTAssertEqual(PipRequirements.kind(of: line), .refused, line)
        }
        XCTAssertEqual(PipRequirements.kind(of: "  "), .nothing)
        XCTAssertEqual(PipRequirements.kind(of: "# a comment"), .nothing)
    }

    func testSelectionKeepsWhatPipMustJudgeAndDropsWhatIsInstalled() {
        let requested = [
            "numpy==2.4.6", "requests", "pandas==2.0", "torch==2.5.0", "pip==24.0", "setuptools", "pkg-resources==0.0.0",
            "--extra-index-url https://download.pytorch.org/whl/cu121",
            "git+https://github.com/org/repo.git#egg=repo", "-e .", "mylib @ https://example.com/mylib.whl",
            "pip install something", "Typing-Extensions[all]==4.12; python_version<\"3.13\"",
        ]
        let installed = ["numpy==2.4.6", "requests==2.31.0", "pandas==1.5.3", "pip==23.0", "typing_extensions==4.12", "mylib==0.1"]
        let selection = PipRequirements.select(from: requested, installed: installed)
        XCTAssertEqual(selection.toInstall, [
            "--extra-index-url https://download.pytorch.org/whl/cu121",  // options first, as pip reads a file in any order
            "pandas==2.0", "torch==2.5.0",
            "git+https://github.com/org/repo.git#egg=repo", "-e .", "mylib @ https://example.com/mylib.whl",
        ])
        XCTAssertEqual(selection.refused, ["pip install something"])
    }

    func testOptionsAloneInstallNothing() {
        let selection = PipRequirements.select(from: ["--extra-index-url https://x/simple", "numpy"], installed: ["numpy==1"])
        XCTAssertEqual(selection.toInstall, [])
    }

    func testLinesAreReadAsPipReadsAFile() {
        let text = """
            # comment
            numpy==2.4.6   # pinned for the cluster
            pkg==1.0 \\
                --hash=sha256:abc
            git+https://github.com/org/repo.git#egg=repo

            \t
            last
            """
        XCTAssertEqual(PipRequirements.lines(of: text), [
            "numpy==2.4.6", "pkg==1.0     --hash=sha256:abc", "git+https://github.com/org/repo.git#egg=repo", "last",
        ])
    }

    func testCanonicalNames() {
        XCTAssertEqual(PipRequirements.canonicalName("Typing_Extensions"), "typing-extensions")
        XCTAssertEqual(PipRequirements.canonicalName("zope..interface"), "zope-interface")
    }
}

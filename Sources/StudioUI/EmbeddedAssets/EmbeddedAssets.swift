/// The web UI's files (Sources/StudioUI/Assets), embedded at build time so the binary serves them with
/// no files beside it. Each asset is a `StaticString` in its own generated file beside this one
/// (`EmbeddedAssets+<name>.swift`, written by scripts/embed-ui-assets.sh).
enum EmbeddedAssets {}

import Foundation

/// The repository's root: the tests read the shipped config/ and templates/ as the gateway does.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

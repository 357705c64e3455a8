enum YAMLParser { static func parse(_ text: String) throws -> JSONValue { .null } }

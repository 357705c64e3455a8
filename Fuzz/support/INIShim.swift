// Encoding's other members need swift-crypto; INIFile only needs Encoding+Trimming.swift.
enum Encoding {}

import GRDB
import GRDBSQLite

/// SQL run through SQLite's C API, for every statement that binds or reads text from outside.
/// GRDB binds a Swift String only up to its first NUL byte and reads a text column only up to its
/// first NUL, so a value holding one (a job's `\u0000`, a job sent as UTF-16) would be matched,
/// returned and hashed short: `gateway audit verify` would fail on it for ever. Here text is bound
/// and read with its byte count, so what is stored is exactly what was given, and read back whole.
enum ExactSQL {
    enum Argument {
        case text(String?)
        case bytes([UInt8]?)
        case integer(Int64)
    }

    /// The current row of a running statement (valid only inside the `rows` body).
    struct Row {
        let statement: OpaquePointer
        let columns: [String: Int32]

        /// The stored bytes of a column, all of them (nil for NULL). An integer reads as its digits.
        func bytes(_ column: String) -> [UInt8]? {
            stored(column).map(Array.init)
        }

        func text(_ column: String) -> String? {
            stored(column).map { String(decoding: $0, as: UTF8.self) }
        }

        /// The column's bytes in SQLite's buffer (valid until the next step).
        private func stored(_ column: String) -> UnsafeRawBufferPointer? {
            guard let index = columns[column], sqlite3_column_type(statement, index) != SQLITE_NULL else { return nil }
            // blob first, then bytes (SQLite's order): a TEXT value's bytes come back unconverted.
            let base = sqlite3_column_blob(statement, index)
            let count = Int(sqlite3_column_bytes(statement, index))
            guard let base, count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
            return UnsafeRawBufferPointer(start: base, count: count)
        }

        func integer(_ column: String) -> Int64? {
            guard let index = columns[column], sqlite3_column_type(statement, index) != SQLITE_NULL else { return nil }
            return sqlite3_column_int64(statement, index)
        }
    }

    /// Runs `sql` with `arguments` (`?` placeholders, in order), calling `body` for each row until
    /// it returns false. Statements that return no rows (INSERT, DELETE) just run.
    static func run(_ db: Database, _ sql: String, _ arguments: [Argument] = [], cached: Bool = false,
                    _ body: (Row) throws -> Bool = { _ in true }) throws {
        let prepared = try cached ? db.cachedStatement(sql: sql) : db.makeStatement(sql: sql)
        let statement = prepared.sqliteStatement
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, argument) in arguments.enumerated() {
            let position = Int32(offset + 1)
            switch argument {
            case .text(let text): bindText(text, statement, position)
            case .bytes(let bytes): bindBytes(bytes, statement, position)
            case .integer(let number): sqlite3_bind_int64(statement, position, number)
            }
        }
        var columns: [String: Int32] = [:]
        for index in 0..<sqlite3_column_count(statement) {
            if let name = sqlite3_column_name(statement, index) { columns[String(cString: name)] = index }
        }
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
            }
            guard try body(Row(statement: statement, columns: columns)) else { return }
        }
    }

    /// Every row, each made into a `T`.
    static func all<T>(_ db: Database, _ sql: String, _ arguments: [Argument] = [], cached: Bool = false,
                       _ make: (Row) throws -> T) throws -> [T] {
        var result: [T] = []
        try run(db, sql, arguments, cached: cached) { row in
            result.append(try make(row))
            return true
        }
        return result
    }

    /// Binds text with its byte count (copied by SQLite), or NULL for nil. An empty string is text, not NULL.
    static func bindText(_ value: String?, _ statement: OpaquePointer, _ position: Int32) {
        guard var value else {
            sqlite3_bind_null(statement, position)
            return
        }
        value.withUTF8 { bindBuffer($0, statement, position) }
    }

    /// Binds bytes as TEXT, exactly as given (SQLite stores them without checking their encoding).
    static func bindBytes(_ value: [UInt8]?, _ statement: OpaquePointer, _ position: Int32) {
        guard let value else {
            sqlite3_bind_null(statement, position)
            return
        }
        value.withUnsafeBufferPointer { bindBuffer($0, statement, position) }
    }

    private static func bindBuffer(_ bytes: UnsafeBufferPointer<UInt8>, _ statement: OpaquePointer, _ position: Int32) {
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        if let base = bytes.baseAddress {
            sqlite3_bind_text(statement, position, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(bytes.count), transient)
        } else {
            sqlite3_bind_text(statement, position, "", 0, transient)
        }
    }
}

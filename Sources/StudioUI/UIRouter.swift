#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import NIOHTTP1
import StudioModel
import StudioStorage

/// The UI's routes: the page's three files and the JSON API (docs/ui.md lists each).
struct UIRouter: Sendable {
    let database: any ListableObjectStore
    let storage: any ListableObjectStore
    let control: any ExperimentControl
    let catalog: ExperimentCatalog
    let access: UIAccess
    /// Where artifacts from a remote store are staged while they stream out.
    let scratch: String
    /// The charts' data, cached per experiment.
    let scalars: ExperimentScalars
    /// The list's metric column (`--metric`), cached per experiment.
    let metrics: MetricColumn

    static let defaultLogTail = 64 * 1024
    static let defaultLogLimit = 256 * 1024
    static let maxLogLimit = 1024 * 1024

    func respond(_ request: UIRequest) async -> UIResponse {
        do {
            return try await route(request)
        } catch let error as UIError {
            return .error(error)
        } catch {
            return .error(UIError(.internalServerError, "\(error)"))
        }
    }

    private func route(_ request: UIRequest) async throws -> UIResponse {
        // Visiting /?token=T once trades the token for a cookie and drops it from the address bar.
        if request.path == "/", let offered = request.parameters["token"], let token = access.token,
           UIAccess.constantTimeEqual(offered, token) {
            return UIResponse(status: .seeOther, headers: [
                ("Location", "/"),
                ("Set-Cookie", "\(UIAccess.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict"),
            ], body: .bytes([]))
        }
        try access.check(request)
        let segments = request.segments
        switch (request.method, segments.first) {
        case (.GET, nil):
            return asset(EmbeddedAssets.indexHTML, type: "text/html; charset=utf-8")
        case (.GET, "app.js") where segments.count == 1:
            return asset(EmbeddedAssets.appJS, type: "text/javascript; charset=utf-8")
        case (.GET, "charts.js") where segments.count == 1:
            return asset(EmbeddedAssets.chartsJS, type: "text/javascript; charset=utf-8")
        case (.GET, "app.css") where segments.count == 1:
            return asset(EmbeddedAssets.appCSS, type: "text/css; charset=utf-8")
        case (_, "api") where segments.count >= 2 && segments[1] == "experiments":
            return try await api(request, Array(segments.dropFirst(2)))
        default:
            throw UIError(.notFound, "no such page: \(request.path)")
        }
    }

    private func asset(_ text: StaticString, type: String) -> UIResponse {
        let bytes = text.withUTF8Buffer { Array($0) }
        return UIResponse(headers: [("Content-Type", type), ("Cache-Control", "no-cache")], body: .bytes(bytes))
    }

    private func api(_ request: UIRequest, _ rest: [String]) async throws -> UIResponse {
        func requireMethod(_ method: HTTPMethod) throws(UIError) {
            guard request.method == method else {
                throw UIError(.methodNotAllowed, "\(request.path) takes \(method.rawValue), not \(request.method.rawValue)")
            }
        }
        if rest.isEmpty {
            try requireMethod(.GET)
            return try await list(ExperimentQuery(request.parameters))
        }
        let key = rest[0]
        guard key != ".", key != "..", !key.isEmpty else { throw UIError(.badRequest, "'\(key)' is not an experiment key") }
        switch rest.count == 1 ? nil : rest[1] {
        case nil:
            try requireMethod(.GET)
            return try await experiment(key)
        case "log" where rest.count == 2:
            try requireMethod(.GET)
            return try await log(key, request.parameters)
        case "scalars" where rest.count == 2:
            try requireMethod(.GET)
            return try await scalarRoute(key, request.parameters)
        case "artifacts" where rest.count == 3:
            try requireMethod(.GET)
            return try await artifact(key, tag: rest[2])
        case "stop" where rest.count == 2:
            try requireMethod(.POST)
            try access.checkSameOrigin(request)
            return try await stop(key)
        case "delete" where rest.count == 2:
            try requireMethod(.POST)
            try access.checkSameOrigin(request)
            return try await delete(key)
        default:
            throw UIError(.notFound, "no such API route: \(request.path)")
        }
    }

    // MARK: - Routes

    private func list(_ query: ExperimentQuery) async throws -> UIResponse {
        let (generation, current) = await catalog.snapshot(unlessUnchangedSince: query.since)
        guard let snapshot = current else {
            var answer: JSONObject = ["generation": .int(Int64(generation)), "unchanged": true]
            await addMetricChanges(to: &answer, query)
            return .json(.object(answer))
        }
        let now = Date.now.timeIntervalSince1970
        let (total, page) = query.page(snapshot.rows, now: now)
        let facets = ListFacets(snapshot.rows)
        var answer: JSONObject = [
            "generation": .int(Int64(snapshot.generation)),
            "now": .double(now),
            "total": .int(Int64(total)),
            "offset": .int(Int64(query.offset)),
            "limit": .int(Int64(query.limit)),
            "rows": .array(await metricRows(page, now: now)),
            "statuses": .object(facets.statuses),
            "projects": .array(facets.projects.map { .string($0) }),
            "owners": .array(facets.owners.map { .string($0) }),
        ]
        if let since = query.since {
            answer["changed"] = .array(snapshot.changed(since: since).map { .string($0) })
            answer["removed"] = .array(snapshot.removed(since: since).map { .string($0) })
        }
        if let error = snapshot.error { answer["error"] = .string(error) }
        await addMetricChanges(to: &answer, query)
        return .json(.object(answer))
    }

    /// `metrics_generation`, and with `metrics_since` the changed values of the page's live metric cells
    /// (`metrics`: key → value), which change with event files, not records.
    private func addMetricChanges(to answer: inout JSONObject, _ query: ExperimentQuery) async {
        guard let since = query.metricsSince, !query.metricKeys.isEmpty else {
            answer["metrics_generation"] = .int(Int64(await metrics.generation))
            return
        }
        let (generation, values) = await metrics.changes(query.metricKeys, since: since)
        answer["metrics_generation"] = .int(Int64(generation))
        if !values.isEmpty { answer["metrics"] = .object(values) }
    }

    /// The page's rows, each with its metric's value when the record names one (`metric_value`).
    private func metricRows(_ rows: [ExperimentRow], now: Double) async -> [JSONValue] {
        var result: [JSONValue] = []
        for row in rows {
            var json = row.json(now: now)
            if let value = await metrics.value(for: row), case .object(var object) = json {
                object["metric_value"] = value
                json = .object(object)
            }
            result.append(json)
        }
        return result
    }

    private func experiment(_ key: String) async throws -> UIResponse {
        guard let data = try await database.get("experiments/" + key) else { throw UIError(.notFound, "no experiment \(key) in the database") }
        let row = ExperimentRow(key: key, data: Array(data))
        let now = Date.now.timeIntervalSince1970
        var answer: JSONObject = ["key": .string(key), "row": row.json(now: now), "now": .double(now)]
        guard let record = try? Experiment(parsing: data) else {
            return .json(.object(answer)) // the row says why; the raw text may hold secrets and is not sent
        }
        answer["record"] = SecretRedaction.redact(.object(record.json))
        let stored = (try? await storage.listObjects(prefix: "experiments/\(key)/")) ?? []
        var sizes: [String: Int64?] = [:]
        for object in stored { sizes[object.key] = object.size }
        var artifacts: [JSONValue] = []
        for (tag, artifact) in record.orderedArtifacts {
            var entry: JSONObject = ["tag": .string(tag), "mutable": .bool(artifact.mutable)]
            entry["key"] = artifact.key.map { .string($0) } ?? .null
            if let location = artifact.qualified ?? artifact.url {
                entry["location"] = .string(SecretRedaction.redactURL(location))
            }
            if let objectKey = artifact.key {
                if let size = sizes[objectKey] {
                    entry["stored"] = true
                    entry["size"] = size.map { .int($0) } ?? .null
                } else {
                    entry["stored"] = .bool((try? await storage.exists(objectKey)) ?? false)
                }
            } else {
                entry["stored"] = false
            }
            artifacts.append(.object(entry))
        }
        answer["artifacts"] = .array(artifacts)
        return .json(.object(answer))
    }

    private func log(_ key: String, _ parameters: [String: String]) async throws -> UIResponse {
        guard let data = try await database.get("experiments/" + key) else { throw UIError(.notFound, "no experiment \(key) in the database") }
        let complete = (try? Experiment(parsing: data))?.hasEnded ?? true
        func integer(_ name: String) throws(UIError) -> Int? {
            guard let text = parameters[name], !text.isEmpty else { return nil }
            guard let value = Int(text), value >= 0 else { throw UIError(.badRequest, "\(name) must be a non-negative integer, not '\(text)'") }
            return value
        }
        let offset = try integer("offset")
        let limit = min(try integer("limit") ?? (offset == nil ? Self.defaultLogTail : Self.defaultLogLimit), Self.maxLogLimit)
        guard limit > 0 else { throw UIError(.badRequest, "limit must be positive") }
        // Three bytes more than the window: LogWindow never ends inside a character.
        let slice = try await control.output(key, from: offset, limit: limit + 3)
        let window = LogWindow(bytes: slice.bytes, start: slice.start, total: slice.total, limit: limit, tail: offset == nil, complete: complete)
        return .json([
            "offset": .int(Int64(window.offset)), "next": .int(Int64(window.next)), "size": .int(Int64(window.size)),
            "text": .string(window.text), "complete": .bool(complete && window.next == window.size),
        ])
    }

    private func artifact(_ key: String, tag: String) async throws -> UIResponse {
        guard let data = try await database.get("experiments/" + key) else { throw UIError(.notFound, "no experiment \(key) in the database") }
        guard let record = try? Experiment(parsing: data) else { throw UIError(.unprocessableEntity, "the record of \(key) is malformed") }
        guard let objectKey = record.artifact(tag)?.key else { throw UIError(.notFound, "experiment \(key) has no stored artifact '\(tag)'") }
        let path: String
        let temporary: Bool
        if let local = storage as? LocalObjectStore {
            path = try local.objectPath(objectKey) // streamed in place: no copy
            temporary = false
        } else {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            path = scratch + "/download-\(UInt64.random(in: 0...UInt64.max))"
            guard try await storage.download(objectKey, toFile: path) else { throw UIError(.notFound, "\(objectKey) is not in the storage yet") }
            temporary = true
        }
        var st = stat()
        guard stat(path, &st) == 0 else { throw UIError(.notFound, "\(objectKey) is not in the storage yet") }
        let name = (key + "-" + tag).map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" }
        let fileName = String(name) + (objectKey.hasSuffix(".tar") ? ".tar" : "")
        return UIResponse(headers: [
            ("Content-Type", "application/octet-stream"),
            ("Content-Disposition", "attachment; filename=\"\(fileName)\""),
            ("Cache-Control", "no-store"),
        ], body: .file(path: path, size: Int(st.st_size), temporary: temporary))
    }

    private func stop(_ key: String) async throws -> UIResponse {
        guard let before = try await control.requestStop(key) else { throw UIError(.notFound, "no experiment \(key) in the database") }
        await catalog.invalidate(key)
        return .json(["key": .string(key), "was": .string(before.rawValue),
                      "status": .string(before.isFinal ? before.rawValue : ExperimentStatus.stopped.rawValue)])
    }

    private func delete(_ key: String) async throws -> UIResponse {
        guard let before = try await control.delete(key) else { throw UIError(.notFound, "no experiment \(key) in the database") }
        if before == .waiting || before == .running {
            throw UIError(.conflict, "\(key) is \(before.rawValue): stop it before deleting it")
        }
        await catalog.invalidate(key)
        return .json(["key": .string(key), "was": .string(before.rawValue), "deleted": true])
    }
}

import HTTPTypes
import Hummingbird
import Logging
import PolicyLedgerCharts
import NIOCore
import Plot
public import PolicyLedgerEventLog
public import PolicyLedgerQuery

/// The read-only web view of a ledger: HTML pages, a JSON API under `/api/`, SVG charts.
///
/// Read-only by construction: the ledger is opened read-only by the caller, the router has GET
/// routes only, and any other method is answered 405 before routing. Every response carries a
/// Content-Security-Policy that allows no script at all and nothing from another origin. Reads
/// are LMDB read transactions, so the server answers while another process records or imports,
/// and each request sees the head committed when it began.
public struct LedgerWebServer: Sendable {
  /// The header every response carries: no script, no plug-in, nothing from elsewhere.
  public static let contentSecurityPolicy =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

  let views: Views
  let api: any LedgerJSONSource
  public let host: String
  public let port: Int

  /// - Parameters:
  ///   - ledger: the ledger, opened read-only.
  ///   - api: the JSON renderings (the command line's own).
  ///   - host: the address to bind; loopback unless told otherwise.
  ///   - port: the port; 0 picks a free one (reported to `run`'s `onStart`).
  ///   - today: today's date where the council sits, for pages without `asOf`.
  public init(ledger: CouncilLedger, api: any LedgerJSONSource, host: String = "127.0.0.1", port: Int = 8080, today: @escaping @Sendable () -> CalendarDay) {
    views = Views(ledger: ledger, today: today)
    self.api = api
    self.host = host
    self.port = port
  }

  /// Serves until the task is cancelled or the process receives SIGINT/SIGTERM.
  /// - Parameter onStart: called once listening, with the port bound.
  public func run(onStart: @escaping @Sendable (Int) -> Void) async throws {
    let router = Router()
    router.add(middleware: ReadOnlyMiddleware())
    /// A route for GET and HEAD (the only methods there are).
    func route(_ path: RouterPath, _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) {
      router.get(path, use: handler)
      router.head(path, use: handler)
    }
    let views = self.views, api = self.api
    route("/style.css") { _, _ in
      Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: styleSheet)))
    }
    route("/") { request, _ in try LedgerWebServer.page(request) { try views.bodies($0) } }
    route("/bodies/:id") { request, context in
      let id = context.parameters.get("id") ?? ""
      return try LedgerWebServer.page(request) { try views.roster(id, $0) }
    }
    route("/progress") { request, _ in try LedgerWebServer.page(request) { try views.progress($0) } }
    route("/indicators") { request, _ in try LedgerWebServer.page(request) { try views.indicators($0) } }
    route("/indicators/:id") { request, context in
      let id = context.parameters.get("id") ?? ""
      return try LedgerWebServer.page(request) { try views.indicator(id, $0) }
    }
    route("/indicators/:id/chart.svg") { request, context in
      let id = context.parameters.get("id") ?? ""
      return try LedgerWebServer.answer(request, type: "image/svg+xml; charset=utf-8", views: views) { q in
        try IndicatorChartSource.svg(views.ledger, id: id, q)
      }
    }
    route("/log") { request, _ in try LedgerWebServer.page(request) { try views.log($0) } }
    route("/integrity") { request, _ in try LedgerWebServer.page(request) { try views.integrity($0) } }
    // The JSON API: the command line's --format json, route by route.
    for apiRoute in [APIRoute.bodies, .progress, .indicators, .log, .integrity] {
      route(RouterPath("/api/\(apiRoute.rawValue)")) { request, _ in
        try LedgerWebServer.answer(request, type: "application/json; charset=utf-8", views: views) { try api.json(apiRoute, id: nil, query: $0) }
      }
    }
    route("/api/bodies/:id/members") { request, context in
      let id = context.parameters.get("id") ?? ""
      return try LedgerWebServer.answer(request, type: "application/json; charset=utf-8", views: views) { try api.json(.members, id: id, query: $0) }
    }
    route("/api/indicators/:id/history") { request, context in
      let id = context.parameters.get("id") ?? ""
      return try LedgerWebServer.answer(request, type: "application/json; charset=utf-8", views: views) { try api.json(.history, id: id, query: $0) }
    }

    var logger = Logger(label: "policy-ledger.serve")
    logger.logLevel = .warning
    let app = Application(
      router: router,
      configuration: .init(address: .hostname(host, port: port), serverName: nil),
      onServerRunning: { channel in onStart(channel.localAddress?.port ?? 0) },
      logger: logger)
    try await app.runService()
  }

  /// The query parameters of a request, decoded as a browser's form sends them (`+` is a space).
  static func parameters(_ request: Request) -> [String: String] {
    ViewQuery.parameters(query: request.uri.query ?? "")
  }

  /// An HTML page, or the error page: 400 for a bad parameter, 404 for an unknown entity.
  static func page(_ request: Request, _ make: (ViewQuery) throws -> Page) throws -> Response {
    let html: String
    var status = HTTPResponse.Status.ok
    do {
      let q = try ViewQuery(parameters(request))
      html = try make(q).html()
    } catch let error as ViewQueryError {
      status = .badRequest
      html = Page(title: "読めない指定", path: "/", query: (try? ViewQuery([:]))!, content: .p(.class("error"), .t(error.description))).html()
    } catch let error as WebNotFound {
      status = .notFound
      html = Page(title: "見つかりません", path: "/", query: (try? ViewQuery([:]))!, content: .p(.class("error"), .t(error.description))).html()
    }
    return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
  }

  /// A non-HTML answer (JSON, SVG); errors as JSON `{"error": …}` with 400 or 404.
  static func answer(_ request: Request, type: String, views: Views, _ make: (ViewQuery) throws -> String) throws -> Response {
    do {
      let q = try ViewQuery(parameters(request))
      return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: try make(q))))
    } catch let error as ViewQueryError {
      return jsonError(.badRequest, error.description)
    } catch let error as WebNotFound {
      return jsonError(.notFound, error.description)
    }
  }

  static func jsonError(_ status: HTTPResponse.Status, _ message: String) -> Response {
    var text = "{\"error\": \""
    for c in message.unicodeScalars {
      switch c {
      case "\"": text += "\\\""
      case "\\": text += "\\\\"
      default: if c.value < 0x20 { text += " " } else { text.unicodeScalars.append(c) }
      }
    }
    text += "\"}\n"
    return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
  }
}

/// The chart route's SVG.
enum IndicatorChartSource {
  static func svg(_ ledger: CouncilLedger, id: String, _ q: ViewQuery) throws -> String {
    do {
      return try IndicatorChart(ledger: ledger, indicator: id, asOf: q.asOf?.firstDay, knownAt: q.knownAt).svg()
    } catch ProjectionError.noSuchEntity {
      throw WebNotFound("no indicator \"\(id)\"")
    }
  }
}

/// Answers 405 to every method but GET and HEAD, before routing, and sets the security headers
/// on every response (errors included).
struct ReadOnlyMiddleware<Context: RequestContext>: RouterMiddleware {
  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
    var response: Response
    if request.method != .get && request.method != .head {
      response = Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD", .contentType: "text/plain; charset=utf-8"],
                          body: .init(byteBuffer: ByteBuffer(string: "405 Method Not Allowed: this view is read-only (GET only).\n")))
    } else {
      do {
        response = try await next(request, context)
        // HEAD: the GET route's status and headers, without the body.
        if request.method == .head { response.body = ResponseBody() }
      } catch let error as HTTPError where error.status == .notFound {
        response = Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "404 Not Found\n")))
      }
    }
    response.headers[.contentSecurityPolicy] = LedgerWebServer.contentSecurityPolicy
    response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
    response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
    response.headers[.cacheControl] = "no-store"
    return response
  }
}

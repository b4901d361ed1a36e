import VirtsyncHTTP

/// The dashboard's page, script and style sheet, and the API's OpenAPI document, compiled into
/// the binary (SwiftPM's `embedInCode`): nothing is read from disk or fetched from elsewhere.
package enum DashboardAssets {
    static func response(for request: EndpointRequest) -> EndpointResponse? {
        let asset: (bytes: [UInt8], type: String)
        switch request.path {
        case "/", "/index.html": asset = (PackageResources.dashboard_html, "text/html; charset=utf-8")
        case "/dashboard.js": asset = (PackageResources.dashboard_js, "text/javascript; charset=utf-8")
        case "/dashboard.css": asset = (PackageResources.dashboard_css, "text/css; charset=utf-8")
        case "/openapi.yaml": asset = (PackageResources.openapi_yaml, "application/yaml")
        default: return nil
        }
        guard request.method == "GET" || request.method == "HEAD" else { return Problem.notAllowed(request, allow: "GET, HEAD") }
        var response = EndpointResponse(status: 200, headers: ["Content-Type": asset.type], body: asset.bytes)
        // The page runs only what it was served with: no inline script, nothing from elsewhere.
        response.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        return response
    }

    /// The OpenAPI document, as served at `/openapi.yaml`.
    package static var openAPIDocument: [UInt8] { PackageResources.openapi_yaml }
}

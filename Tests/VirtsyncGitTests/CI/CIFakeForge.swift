import Foundation
import VirtsyncTestSupport

/// A tiny stand-in for the comment APIs of GitHub and GitLab on 127.0.0.1: a python3 script
/// (below) started on a free loopback port, holding comments in memory and logging every request.
///
/// The script is kept here as a string, not as a `.py` file, so that the test target has no file
/// SwiftPM would have to be told about. The test talks to its control endpoints with curl.
final class CIFakeForge {
    /// One comment as the fake forge holds it.
    struct Comment: Decodable, Equatable {
        let id: Int
        let body: String
        let login: String
    }

    /// One API request the fake forge answered (control requests excluded).
    struct Request: Decodable, Equatable, CustomStringConvertible {
        let method: String
        let path: String
        var description: String { "\(method) \(path)" }
    }

    /// The token the fake forge accepts (GitHub: `Authorization: Bearer`; GitLab: `PRIVATE-TOKEN`).
    let token = "ci-test-token-\(UUID().uuidString.prefix(8))"
    /// The login of the token's user: the author of every comment created through the API.
    let botLogin: String
    /// The loopback port it listens on.
    let port: Int
    private let directory: ScratchDirectory
    private let process: ChildProcess

    /// Writes the script and starts it; retries with another port when the chosen one was taken.
    init(botLogin: String, timeout: TimeInterval = 10) throws {
        self.botLogin = botLogin
        directory = try ScratchDirectory(prefix: "fake-forge")
        let script = directory.path("fake_forge_api.py")
        try Data(Self.script.utf8).write(to: URL(fileURLWithPath: script))
        let python = try Command.locate("python3")
        let logPath = directory.path("server.log")
        for _ in 0..<5 {
            let port = try LoopbackPort.free()
            let process = try ChildProcess(executable: python, arguments: [script, "\(port)", token, botLogin],
                                           environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"], outputPath: logPath)
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline && !LoopbackPort.accepts(port) { usleep(20_000) }
            if process.isRunning && LoopbackPort.accepts(port) {
                (self.port, self.process) = (port, process)
                return
            }
            process.terminate()
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw FixtureError(command: [python, script], stderr: "the fake forge did not start\n\(log)")
    }

    deinit { process.terminate() }

    /// `http://127.0.0.1:PORT`: GitHub's `GITHUB_API_URL`; GitLab's `CI_API_V4_URL` is this + `/api/v4`.
    var url: String { "http://127.0.0.1:\(port)" }

    /// Adds a comment by `login` (someone other than the bot, or the bot outside virtsync); returns its id.
    @discardableResult
    func seed(_ body: String, by login: String) async throws -> Int {
        struct Created: Decodable { let id: Int }
        let payload = try JSONSerialization.data(withJSONObject: ["body": body, "login": login])
        return try await control(Created.self, "POST", "/_seed", body: String(decoding: payload, as: UTF8.self)).id
    }

    /// Every comment, in id (creation) order.
    func comments() async throws -> [Comment] {
        try await control([Comment].self, "GET", "/_state")
    }

    /// Every API request since the start or the last `resetLog()`.
    func requests() async throws -> [Request] {
        try await control([Request].self, "GET", "/_log")
    }

    /// The API requests other than reads.
    func writes() async throws -> [Request] {
        try await requests().filter { $0.method != "GET" }
    }

    /// Forgets the request log (the comments stay).
    func resetLog() async throws {
        let result = try await Command.run("curl", ["-sS", "-f", "-X", "POST", url + "/_reset"])
        guard result.succeeded else { throw FixtureError(command: ["curl", "/_reset"], status: result.status, stderr: result.stderr) }
    }

    private func control<T: Decodable>(_ type: T.Type, _ method: String, _ path: String, body: String? = nil) async throws -> T {
        var arguments = ["-sS", "-f", "-X", method]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let result = try await Command.run("curl", arguments + [url + path])
        guard result.succeeded else {
            throw FixtureError(command: ["curl", method, path], status: result.status, stderr: result.stderr)
        }
        return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
    }

    /// The server (python3, standard library only).
    static let script = #"""
#!/usr/bin/env python3
'''A tiny stand-in for the comment APIs of GitHub and GitLab, on 127.0.0.1 only, for the tests of
examples/ci/post-plan-comments.sh.

    fake_forge_api.py PORT TOKEN BOT_LOGIN

GitHub (REST, token as `Authorization: Bearer TOKEN`):
    GET/POST   /repos/{owner}/{repo}/issues/{number}/comments   (?per_page=&page=)
    PATCH/DELETE /repos/{owner}/{repo}/issues/comments/{id}
GitLab (v4, token as `PRIVATE-TOKEN: TOKEN`):
    GET        /api/v4/user                                     (the token's user: BOT_LOGIN)
    GET/POST   /api/v4/projects/{id}/merge_requests/{iid}/notes (?per_page=&page=)
    PUT/DELETE /api/v4/projects/{id}/merge_requests/{iid}/notes/{id}
Control, for the test (no token):
    POST /_seed  {"body", "login"}  adds a comment by someone else; answers {"id"}
    GET  /_state                    every comment: [{"id", "body", "login"}] in id order
    GET  /_log                      every API request so far: [{"method", "path"}]
    POST /_reset                    forgets the log (not the comments)

Pages hold at most 3 comments whatever per_page asks, so that paging is always exercised.
Writes by the bot go to the comments the token's user wrote, as on the real forges.
'''
import json
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BOT_LOGIN = "virtsync-bot"  # replaced by argv[3]
MAX_PAGE = 3

lock = threading.Lock()
comments = {}  # id -> {"id", "body", "login"}
log = []
next_id = [1000]


def add(body, login):
    next_id[0] += 7  # ids grow, with gaps, as on the real forges
    comments[next_id[0]] = {"id": next_id[0], "body": body, "login": login}
    return comments[next_id[0]]


def shaped(comment, forge):
    user = {"login": comment["login"]} if forge == "github" else {"username": comment["login"]}
    key = "user" if forge == "github" else "author"
    return {"id": comment["id"], "body": comment["body"], key: user, "system": False}


GITHUB_LIST = re.compile(r"^/repos/[^/]+/[^/]+/issues/[0-9]+/comments$")
GITHUB_ITEM = re.compile(r"^/repos/[^/]+/[^/]+/issues/comments/([0-9]+)$")
GITLAB_LIST = re.compile(r"^/api/v4/projects/[^/]+/merge_requests/[0-9]+/notes$")
GITLAB_ITEM = re.compile(r"^/api/v4/projects/[^/]+/merge_requests/[0-9]+/notes/([0-9]+)$")


class Handler(BaseHTTPRequestHandler):
    token = ""

    def log_message(self, *args):
        pass

    def reply(self, status, payload=None):
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def authorised(self, forge):
        if forge == "github":
            return self.headers.get("Authorization") == "Bearer " + self.token
        return self.headers.get("PRIVATE-TOKEN") == self.token

    def handle_any(self, method):
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        with lock:
            if path.startswith("/_"):
                return self.control(method, path)
            log.append({"method": method, "path": path})
            forge = "gitlab" if path.startswith("/api/v4/") else "github"
            if not self.authorised(forge):
                return self.reply(401, {"message": "Bad credentials"})
            listing = GITHUB_LIST if forge == "github" else GITLAB_LIST
            item = GITHUB_ITEM if forge == "github" else GITLAB_ITEM
            edit = "PATCH" if forge == "github" else "PUT"
            if forge == "gitlab" and path == "/api/v4/user" and method == "GET":
                return self.reply(200, {"id": 42, "username": BOT_LOGIN})
            if listing.match(path) and method == "GET":
                size = min(int(query.get("per_page", ["30"])[0]), MAX_PAGE)
                page = int(query.get("page", ["1"])[0])
                ordered = [comments[k] for k in sorted(comments)]
                chunk = ordered[(page - 1) * size: page * size]
                return self.reply(200, [shaped(c, forge) for c in chunk])
            if listing.match(path) and method == "POST":
                return self.reply(201, shaped(add(self.body()["body"], BOT_LOGIN), forge))
            found = item.match(path)
            if found and method in (edit, "DELETE"):
                comment = comments.get(int(found.group(1)))
                if comment is None:
                    return self.reply(404, {"message": "Not Found"})
                if comment["login"] != BOT_LOGIN:
                    return self.reply(403, {"message": "not the author"})
                if method == "DELETE":
                    del comments[comment["id"]]
                    return self.reply(204)
                comment["body"] = self.body()["body"]
                return self.reply(200, shaped(comment, forge))
            return self.reply(404, {"message": "no such endpoint: %s %s" % (method, path)})

    def control(self, method, path):
        if path == "/_seed" and method == "POST":
            request = self.body()
            return self.reply(201, {"id": add(request["body"], request["login"])["id"]})
        if path == "/_state" and method == "GET":
            return self.reply(200, [comments[k] for k in sorted(comments)])
        if path == "/_log" and method == "GET":
            return self.reply(200, log)
        if path == "/_reset" and method == "POST":
            log.clear()
            return self.reply(204)
        return self.reply(404, {"message": "no such control"})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


def main():
    global BOT_LOGIN
    # The test runner spawns children with SIGTERM blocked; unblock it so that stopping is quick.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    port, Handler.token, BOT_LOGIN = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
"""#
}

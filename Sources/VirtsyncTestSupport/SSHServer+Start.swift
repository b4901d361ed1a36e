import Foundation

/// Starting sshd: config file, free port, readiness.
extension SSHServer {
    /// Starts sshd on a free loopback port, retrying with another port when the chosen one was
    /// taken meanwhile (tests run in parallel). Returns the running process and its port.
    public static func start(in directory: ScratchDirectory, timeout: TimeInterval) throws -> (ChildProcess, Int) {
        var lastLog = ""
        for _ in 0..<5 {
            let port = try LoopbackPort.free()
            let config = directory.path("sshd_config")
            let logPath = directory.path("sshd.log")
            try write(config, configuration(directory: directory, port: port))
            try write(logPath, "")
            let process = try ChildProcess(
                executable: executable, arguments: ["-D", "-e", "-f", config],
                environment: ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                outputPath: logPath)
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline {
                if LoopbackPort.accepts(port) { return (process, port) }
                usleep(20_000)
            }
            let running = process.isRunning
            process.terminate()
            lastLog = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if running {
                throw FixtureError(command: [executable, "-f", config], stderr: "not listening after \(timeout) s\n\(lastLog)")
            }
            let portTaken = lastLog.contains("Address already in use") || lastLog.contains("Cannot bind")
            if !portTaken {
                throw FixtureError(command: [executable, "-f", config], status: process.status ?? -1, stderr: lastLog)
            }
        }
        throw FixtureError(command: [executable], stderr: "no free port after 5 attempts\n\(lastLog)")
    }

    /// The sshd_config: loopback only, public keys only, everything in `directory`.
    public static func configuration(directory: ScratchDirectory, port: Int) -> String {
        """
        ListenAddress 127.0.0.1
        Port \(port)
        AddressFamily inet
        HostKey \(directory.path("host_ed25519"))
        PidFile \(directory.path("sshd.pid"))
        AuthorizedKeysFile \(directory.path("authorized_keys"))
        AuthenticationMethods publickey
        PubkeyAuthentication yes
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        HostbasedAuthentication no
        UsePAM no
        PermitRootLogin prohibit-password
        AllowUsers \(user)
        StrictModes no
        UseDNS no
        PrintMotd no
        PrintLastLog no
        PermitTTY no
        X11Forwarding no
        AllowAgentForwarding no
        AllowTcpForwarding no
        PermitTunnel no
        MaxStartups 64
        LogLevel VERBOSE

        """
    }

    /// Writes `text` to the file at `path`.
    public static func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}

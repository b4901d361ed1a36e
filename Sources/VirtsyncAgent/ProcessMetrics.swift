import Foundation
import Prometheus
#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` metrics of Prometheus clients (CPU time, memory, open descriptors,
/// start time), read from `/proc/self` at each scrape. No package on the mirror collects them
/// for swift-prometheus; the figures are three small files of the kernel's.
final class ProcessMetrics: Sendable {
    private let cpu: Counter
    private let resident: Gauge
    private let virtual: Gauge
    private let openFDs: Gauge
    private let lastCPU = Locked<Double>(0)
    private static let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
    private static let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

    init(registry: PrometheusCollectorRegistry) {
        cpu = registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "process_cpu_seconds_total", unitName: "", helpText: "Total user and system CPU time spent in seconds."))
        resident = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "process_resident_memory_bytes", unitName: "", helpText: "Resident memory size in bytes."))
        virtual = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "process_virtual_memory_bytes", unitName: "", helpText: "Virtual memory size in bytes."))
        openFDs = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "process_open_fds", unitName: "", helpText: "Number of open file descriptors."))
        let start = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "process_start_time_seconds", unitName: "", helpText: "Start time of the process since unix epoch in seconds."))
        start.set(to: Self.startTime() ?? Date().timeIntervalSince1970)
        update()
    }

    /// Reads the figures again.
    func update() {
        if let fields = Self.statFields() {
            // Fields after the command name: utime is the 14th field of the line, stime the 15th.
            let seconds = ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / Self.ticks
            lastCPU.withLock { last in
                if seconds > last { cpu.increment(by: seconds - last) }
                last = max(last, seconds)
            }
        }
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let pages = statm.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if pages.count >= 2 {
                virtual.set(to: pages[0] * Self.pageSize)
                resident.set(to: pages[1] * Self.pageSize)
            }
        }
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openFDs.set(to: Double(fds.count))
        }
    }

    /// The fields of `/proc/self/stat` after the command name (which may contain spaces).
    private static func statFields() -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 20 ? fields : nil
    }

    /// Boot time plus the process's start (field 22, in clock ticks since boot).
    private static func startTime() -> Double? {
        guard let fields = statFields(), let ticksSinceBoot = Double(fields[19]),
              let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let boot = Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) else { return nil }
        return boot + ticksSinceBoot / ticks
    }
}

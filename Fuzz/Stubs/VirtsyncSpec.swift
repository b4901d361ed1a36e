// Stand-in for the project's `VirtsyncSpec` module, for the known_hosts fuzz target only.
// KnownHosts.swift imported `GitError` from here before it moved to VirtsyncEngine; re-exporting
// the VirtsyncEngine stub lets the real file compile with either import line.
@_exported import VirtsyncEngine

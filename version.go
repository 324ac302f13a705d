package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// version is the release, stamped by make build (-X main.version=…); empty,
// it is read from the build information (a go install of a tagged
// version), else "devel".
var version = ""

// buildInfo is what a binary knows of its build.
type buildInfo struct {
	Version   string
	Commit    string // the VCS revision, "unknown" when not recorded
	Modified  bool   // built from a tree with uncommitted changes
	GoVersion string
}

// readBuildInfo returns the binary's build information.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if ok {
		b.GoVersion = info.GoVersion
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "devel"
	}
	return b
}

// String is the line handoff version prints.
func (b buildInfo) String() string {
	commit := b.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if b.Modified {
		commit += "+changes"
	}
	return fmt.Sprintf("handoff %s (commit %s, %s)", b.Version, commit, strings.TrimSpace(b.GoVersion))
}

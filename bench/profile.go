package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// profileDuring records, with -profile, a CPU profile and then an execution
// trace of each of the site's servers while a measured run goes on, for d
// (the profile) and a second (the trace), then their allocations so far. The files are named after the run
// and the server. The returned func waits for them; without -profile it
// does nothing.
func (e *env) profileDuring(ctx context.Context, run string, procs []*proc, d time.Duration) func() {
	if e.profile == "" {
		return func() {}
	}
	var wg sync.WaitGroup
	for _, p := range procs {
		if p.metricsAddr == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := run + "-" + strings.NewReplacer(" ", "", "(", "-", ")", "").Replace(p.name)
			secs := max(int(d/time.Second), 1)
			for _, f := range []struct{ path, file string }{
				{fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), name + ".pprof"},
				{"/debug/pprof/trace?seconds=1", name + ".trace"},
				// Allocations since the server started (its set-up included).
				{"/debug/pprof/allocs", name + ".allocs"},
			} {
				if err := fetchTo(ctx, "http://"+p.metricsAddr+f.path, filepath.Join(e.profile, f.file), time.Duration(secs+10)*time.Second); err != nil {
					e.note("profile %s: %v", f.file, err)
					return
				}
			}
			e.logf("profiled %s into %s", name, e.profile)
		}()
	}
	return wg.Wait
}

// fetchTo writes the body of GET url to path.
func fetchTo(ctx context.Context, url, path string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return &statusError{"GET " + url, res.StatusCode, snippet(b)}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

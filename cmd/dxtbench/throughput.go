package main

import (
	"context"
	"fmt"
	"path/filepath"
)

// runThroughput reads the fill range with each reader, --runs times,
// interleaved so that a noisy neighbour hurts all of them alike; the
// fastest run of each counts.
func runThroughput(ctx context.Context, e *env, o options, fill fillResult, res *results) error {
	var raws, rawcfgs, canals, fols []streamResult
	for i := range o.runs {
		e.log.Info().Int("run", i+1).Msg("phase 2a: throughput, raw stream")
		raw, err := runRaw(ctx, e, fill.Start, fill.End, false)
		if err != nil {
			return fmt.Errorf("raw: %w", err)
		}
		raws = append(raws, raw)
		rc, err := runRaw(ctx, e, fill.Start, fill.End, true)
		if err != nil {
			return fmt.Errorf("raw with the follower's settings: %w", err)
		}
		rawcfgs = append(rawcfgs, rc)
		e.log.Info().Int("run", i+1).Msg("phase 2b: throughput, go-mysql canal")
		cn, err := runCanal(ctx, e, fill.Start, fill.End)
		if err != nil {
			return fmt.Errorf("canal: %w", err)
		}
		canals = append(canals, cn)
		e.log.Info().Int("run", i+1).Msg("phase 2c: throughput, follower + processor")
		if i > 0 {
			if err := resetProcessed(ctx, e); err != nil {
				return err
			}
		}
		fr, err := runFollowerThroughput(ctx, e, fill, profilePath(o, fmt.Sprintf("follower-%d.pprof", i+1)))
		if err != nil {
			return fmt.Errorf("follower: %w", err)
		}
		fols = append(fols, fr)
	}
	raw := best(raws)
	raw.finish(raw, fill.Bytes)
	rc, cn, fr := best(rawcfgs), best(canals), best(fols)
	rc.finish(raw, fill.Bytes)
	cn.finish(raw, fill.Bytes)
	fr.finish(raw, fill.Bytes)
	res.Raw, res.RawCfg, res.Canal, res.Follower = &raw, &rc, &cn, &fr
	return nil
}

// best is the fastest run, with every run's time attached.
func best(runs []streamResult) streamResult {
	b := runs[0]
	var all []float64
	for _, r := range runs {
		all = append(all, r.Seconds)
		if r.Seconds < b.Seconds {
			b = r
		}
	}
	b.RunSeconds = all
	return b
}

func profilePath(o options, name string) string {
	if o.profileDir == "" {
		return ""
	}
	return filepath.Join(o.profileDir, name)
}

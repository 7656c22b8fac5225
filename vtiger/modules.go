package vtiger

import (
	"context"
	"fmt"
)

type moduleSnapshot struct {
	label map[string]string // vtiger_tab.name -> tablabel
}

func (s *moduleSnapshot) lookup(name string) (canonical, label string, ok bool) {
	if l, ok := s.label[name]; ok {
		return name, l, true
	}
	for n, l := range s.label { // vtiger_tab.name is case-insensitive in MySQL
		if sqlEqualCI(n, name) {
			return n, l, true
		}
	}
	return "", "", false
}

func (d *Directory) loadModules(ctx context.Context) (*moduleSnapshot, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT name, COALESCE(tablabel, '') FROM vtiger_tab`)
	if err != nil {
		return nil, fmt.Errorf("vtiger: read vtiger_tab: %w", err)
	}
	defer rows.Close()
	s := &moduleSnapshot{label: map[string]string{}}
	for rows.Next() {
		var name, label string
		if err := rows.Scan(&name, &label); err != nil {
			return nil, fmt.Errorf("vtiger: read vtiger_tab: %w", err)
		}
		s.label[name] = label
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vtiger: read vtiger_tab: %w", err)
	}
	d.log.Debug().Int("modules", len(s.label)).Msg("module cache loaded")
	return s, nil
}

func (d *Directory) module(ctx context.Context, name string) (label string, ok bool, err error) {
	s, err := d.modules.get(ctx, d.now, d.ttl)
	if err != nil {
		return "", false, err
	}
	if _, l, ok := s.lookup(name); ok {
		return l, true, nil
	}
	s, reloaded, err := d.modules.refresh(ctx, d.now, d.missReload)
	if err != nil || !reloaded {
		return "", false, err
	}
	_, l, ok := s.lookup(name)
	return l, ok, nil
}

// ModuleExists tells whether vtiger_tab has a module of that name, enabled
// or not (presence is not looked at). Names are cached; an unknown name
// reloads them at most once per miss-reload interval (default 10s).
func (d *Directory) ModuleExists(ctx context.Context, name string) (bool, error) {
	_, ok, err := d.module(ctx, name)
	return ok, err
}

// ModuleLabel returns vtiger_tab.tablabel of the module (untranslated, e.g.
// "Dashboards" for Dashboard), or name itself when the module is unknown or
// has no label.
func (d *Directory) ModuleLabel(ctx context.Context, name string) (string, error) {
	label, ok, err := d.module(ctx, name)
	if err != nil {
		return "", err
	}
	if !ok || label == "" {
		return name, nil
	}
	return label, nil
}

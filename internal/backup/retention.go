package backup

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/educacao-continuada/content-transfer/internal/backupdest"
)

// prune keeps the newest keep backups at dest and deletes the files of the
// older ones: every file named after such a backup (its dump first, so that it
// stops being a backup at once, then its manifest and the course exports of a
// release check). It runs only after the backup current was verified and
// published, and stops without deleting anything if current is not among the
// backups listed. Files of other names are never touched, nor are incomplete
// backups (a dump without manifest).
func prune(ctx context.Context, dest backupdest.Destination, keep int, current string) ([]string, error) {
	objects, err := dest.List(ctx)
	if err != nil {
		return nil, err
	}
	files := map[string][]string{}
	present := map[string]bool{}
	for _, o := range objects {
		if stem := stemOf(o.Name); stem != "" {
			files[stem] = append(files[stem], o.Name)
			present[o.Name] = true
		}
	}
	var complete []string
	for stem := range files {
		if present[stem+dumpSuffix] && present[stem+manifestSuffix] {
			complete = append(complete, stem)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(complete)))
	if !slices.Contains(complete, current) {
		return nil, fmt.Errorf("the new backup %s is not listed at %s: nothing deleted", current, dest)
	}
	if len(complete) <= keep {
		return nil, nil
	}
	var pruned []string
	for _, stem := range complete[keep:] {
		names := files[stem]
		sort.Slice(names, func(i, j int) bool {
			return names[i] == stem+dumpSuffix || (names[j] != stem+dumpSuffix && names[i] < names[j])
		})
		for _, name := range names {
			if err := dest.Remove(ctx, name); err != nil {
				return pruned, fmt.Errorf("delete %s: %w", name, err)
			}
		}
		pruned = append(pruned, stem)
	}
	return pruned, nil
}

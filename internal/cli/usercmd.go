package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-soc/vigil/internal/auth"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// userBackend is what `vigil user` needs.
type userBackend interface {
	users(ctx context.Context) ([]statedb.User, error)
	createUser(ctx context.Context, name, role, password string) (statedb.User, error)
	deleteUser(ctx context.Context, id string) error
}

var (
	_ userBackend = (*local)(nil)
	_ userBackend = (*remote)(nil)
)

func (l *local) users(ctx context.Context) ([]statedb.User, error) { return l.n.State.Users(ctx) }
func (l *local) createUser(ctx context.Context, name, role, password string) (statedb.User, error) {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return statedb.User{}, err
	}
	return l.n.State.CreateUser(ctx, statedb.NewUser{Name: name, Role: role, PasswordHash: hash})
}
func (l *local) deleteUser(ctx context.Context, id string) error {
	_, err := l.n.State.DeleteUser(ctx, id)
	return err
}
func (r *remote) users(ctx context.Context) ([]statedb.User, error) { return r.c.Users(ctx) }
func (r *remote) createUser(ctx context.Context, name, role, password string) (statedb.User, error) {
	return r.c.CreateUser(ctx, name, role, password)
}
func (r *remote) deleteUser(ctx context.Context, id string) error { return r.c.DeleteUser(ctx, id) }

func runUser(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "list" && args[0] != "delete") {
		return usagef("usage: vigil user add NAME --role admin|analyst|viewer (password on stdin) | list | delete ID")
	}
	fs := newFlagSet("user "+args[0], env)
	var c common
	c.register(fs, env)
	role := fs.String("role", statedb.RoleAnalyst, "role of a new user: admin, analyst or viewer")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	b, err := openBackend(ctx, &c, newLogger(env.Stderr, "warn"))
	if err != nil {
		return err
	}
	defer b.close()
	ub, ok := b.(userBackend)
	if !ok {
		return errors.New("this backend cannot manage users")
	}
	switch args[0] {
	case "list":
		return listUsers(ctx, env, c.json, ub)
	case "delete":
		if fs.NArg() != 1 {
			return usagef("vigil user delete takes one user ID")
		}
		return ub.deleteUser(ctx, fs.Arg(0))
	}
	if fs.NArg() != 1 {
		return usagef("vigil user add takes one NAME")
	}
	pw, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && pw == "" {
		return errors.New("vigil user add reads the password from standard input")
	}
	u, err := ub.createUser(ctx, fs.Arg(0), *role, strings.TrimRight(pw, "\r\n"))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "created user %s (%s), id %s\n", u.Name, u.Role, u.ID)
	return nil
}

func listUsers(ctx context.Context, env *Env, asJSON bool, ub userBackend) error {
	us, err := ub.users(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		writeJSONLines(env.Stdout, us)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tDISABLED\tCREATED\tID")
	for _, u := range us {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", u.Name, u.Role, u.Disabled, u.Created.UTC().Format(time.RFC3339), u.ID)
	}
	return tw.Flush()
}

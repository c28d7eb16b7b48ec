package cli

import (
	"context"
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/vigil-soc/vigil/internal/config"
	"github.com/vigil-soc/vigil/internal/node"
)

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("serve", env)
	var c common
	c.register(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(c.config)
	if err != nil {
		return err
	}
	log := newLogger(env.Stderr, cfg.LogLevel)
	n, err := node.Open(ctx, cfg, node.Options{DataDir: c.data, Listen: true, Version: Version}, log)
	if err != nil {
		if errors.Is(err, node.ErrLocked) {
			return fmt.Errorf("%w (is a server already running on it?)", err)
		}
		return err
	}
	defer n.Close()
	go logListeners(n)
	return n.Run(ctx)
}

func logListeners(n *node.Node) {
	attrs := []any{"http", n.HTTPAddr(), "data", n.Opts.DataDir}
	if n.Syslog != nil {
		<-n.Syslog.Ready()
		udp, tcp, tls := n.Syslog.Addrs()
		for _, a := range []struct {
			name string
			addr fmt.Stringer
		}{{"syslog_udp", udp}, {"syslog_tcp", tcp}, {"syslog_tls", tls}} {
			if a.addr != nil && fmt.Sprint(a.addr) != "<nil>" {
				attrs = append(attrs, a.name, a.addr.String())
			}
		}
	}
	n.Log.Info("vigil serving", attrs...)
}

func runConfig(_ context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "default" {
		out, err := yaml.Marshal(config.Default())
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(out)
		return err
	}
	if len(args) == 0 || args[0] != "check" {
		return usagef("usage: vigil config check FILE | vigil config default")
	}
	fs := newFlagSet("config check", env)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	path := fs.Arg(0)
	if path == "" {
		path = env.Getenv("VIGIL_CONFIG")
	}
	if path == "" {
		return usagef("usage: vigil config check FILE")
	}
	if _, err := config.Load(path); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: ok\n", path)
	return nil
}

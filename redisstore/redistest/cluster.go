package redistest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a running Redis Cluster of three masters without replicas,
// each a redis-server on loopback, for tests of stores that must work on
// Redis Cluster:
//
//	var cl *redistest.Cluster
//	var clErr error
//
//	func TestMain(m *testing.M) {
//		cl, clErr = redistest.StartCluster()
//		code := m.Run()
//		cl.Close()
//		os.Exit(code)
//	}
//
//	func TestOnCluster(t *testing.T) {
//		redistest.Need(t, clErr)
//		rdb := cl.Client() // a *redis.ClusterClient
//		...
//	}
type Cluster struct {
	// Addrs are the masters' host:port.
	Addrs []string
	// Nodes are the masters.
	Nodes []*Server

	dir string
}

// StartCluster starts three redis-servers with --cluster-enabled yes on
// free loopback ports (each port and its cluster bus port, port+10000,
// free), without persistence, joins them with redis-cli --cluster create
// (--cluster-replicas 0), and returns once every node reports
// cluster_state:ok with all 16384 slots served. It needs redis-server
// and redis-cli in PATH. Close stops the nodes by their PIDs.
func StartCluster() (*Cluster, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, errors.New("redistest: redis-cli not found in PATH: install it (Debian: apt-get install redis-tools)")
	}
	dir, err := os.MkdirTemp("", "redistest-cluster-")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	c := &Cluster{dir: dir}
	for i := range 3 {
		var s *Server
		for range 20 {
			port, ok := clusterPort()
			if !ok {
				continue
			}
			conf := filepath.Join(dir, "nodes-"+strconv.Itoa(port)+".conf")
			s, err = start(bin, port, []string{"--cluster-enabled", "yes", "--cluster-config-file", conf,
				"--cluster-node-timeout", "5000", "--save", "", "--appendonly", "no", "--dir", dir})
			if err == nil {
				break
			}
		}
		if s == nil {
			c.Close()
			if err == nil {
				err = errors.New("no free port pair")
			}
			return nil, fmt.Errorf("redistest: cluster node %d: %w", i, err)
		}
		c.Nodes = append(c.Nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redistest: redis-cli --cluster create: %w: %s", err, lastLine(string(out)))
	}
	if err := c.waitOK(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// clusterPort returns a port in [20000, 55000) free on 127.0.0.1 with its
// cluster bus port (port+10000) free too.
func clusterPort() (int, bool) {
	port := 20000 + rand.IntN(35000)
	for _, p := range []int{port, port + 10000} {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return 0, false
		}
		ln.Close()
	}
	return port, true
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// waitOK waits until every node reports cluster_state:ok and all slots
// assigned and ok.
func (c *Cluster) waitOK(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last string
	for range 5000 {
		ok := 0
		for _, n := range c.Nodes {
			rdb := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
			info, err := rdb.ClusterInfo(ctx).Result()
			rdb.Close()
			if err != nil {
				last = err.Error()
				continue
			}
			if strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_slots_ok:16384") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(c.Nodes))) {
				ok++
			} else {
				last = "cluster_state not ok yet"
			}
		}
		if ok == len(c.Nodes) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redistest: cluster not ok: %s", last)
		case <-tick.C:
		}
	}
	return fmt.Errorf("redistest: cluster not ok: %s", last)
}

// Client returns a new cluster client of c (close it when done). Its
// go-redis retries stay on, as in production.
func (c *Cluster) Client() *redis.ClusterClient {
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
}

// Close stops every node (see [Server.Close]) and removes the nodes'
// files. It is safe on a nil Cluster.
func (c *Cluster) Close() {
	if c == nil {
		return
	}
	for _, n := range c.Nodes {
		n.Close()
	}
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}

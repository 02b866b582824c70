// Fixtures for consul-template's `sockaddr` function, from go-sockaddr itself (Debian's
// golang-github-hashicorp-go-sockaddr-dev; build outside a module, see README.md):
//
//	go run ./tools/gotemplate sockaddr > test/fixtures/template/sockaddr-cases.json
//	go run ./tools/gotemplate sockaddr-real > test/fixtures/template/sockaddr-real.json
//
// `sockaddr` evaluates every case on fixed interface lists: the go-sockaddr functions that read
// the host (GetAllInterfaces and the Get* helpers built on it) are replaced by the library's own
// code over the fixed list; everything else is go-sockaddr's. `sockaddr-real` runs go-sockaddr's
// template.Parse unchanged on this machine's interfaces.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/template"

	sockaddr "github.com/hashicorp/go-sockaddr"
	socktmpl "github.com/hashicorp/go-sockaddr/template"
)

// SaIface is one address on an interface, as the fixture records it.
type SaIface struct {
	Address string `json:"address"`
	Index   int    `json:"index"`
	MTU     int    `json:"mtu"`
	Name    string `json:"name"`
	HW      string `json:"hw"`
	Flags   int    `json:"flags"`
}

type SaCase struct {
	Name   string   `json:"name"`
	Host   string   `json:"host"`
	Args   []string `json:"args"`
	Output *string  `json:"output,omitempty"`
	Error  *string  `json:"error,omitempty"`
}

const (
	up   = int(net.FlagUp)
	bc   = int(net.FlagBroadcast)
	lo   = int(net.FlagLoopback)
	p2p  = int(net.FlagPointToPoint)
	mc   = int(net.FlagMulticast)
	eth  = up | bc | mc
	loop = up | lo
)

// saHosts are the fixed machines. The default interface of each is eth0 when it has one: the
// library's default-route sort reads the real route table, so the generator records the real
// default interface's name and the hosts use it (see saDefault).
func saHosts(def string) map[string][]SaIface {
	return map[string][]SaIface{
		"server": {
			{"127.0.0.1/8", 1, 65536, "lo", "", loop},
			{"::1/128", 1, 65536, "lo", "", loop},
			{"10.1.2.3/16", 2, 1500, def, "02:42:ac:11:00:02", eth},
			{"10.1.9.9/24", 2, 1500, def, "02:42:ac:11:00:02", eth},
			{"fd00:1::5/64", 2, 1500, def, "02:42:ac:11:00:02", eth},
			{"fe80::42:acff:fe11:2/64", 2, 1500, def, "02:42:ac:11:00:02", eth},
			{"203.0.113.7/24", 3, 1450, "eth1", "02:42:ac:11:00:03", eth},
			{"8.8.4.4/24", 3, 1450, "eth1", "02:42:ac:11:00:03", eth},
			{"2001:4860::8888/48", 3, 1450, "eth1", "02:42:ac:11:00:03", eth},
			{"192.168.50.1/24", 4, 1500, "docker0", "02:42:9a:00:00:01", up | bc | mc},
			{"172.17.0.1/16", 5, 1500, "br-1", "02:42:9a:00:00:02", bc | mc},
			{"100.64.0.9/10", 6, 1420, "wg0", "", up | p2p},
			{"169.254.1.1/16", 7, 1500, "eth2", "02:00:00:00:00:07", eth},
			{"::ffff:10.9.9.9/128", 8, 1500, "v4mapped", "02:00:00:00:00:08", eth},
		},
		"public": {
			{"127.0.0.1/8", 1, 65536, "lo", "", loop},
			{"198.51.100.20/24", 2, 9001, def, "0a:1b:2c:3d:4e:5f", eth},
			{"34.120.1.2/32", 2, 9001, def, "0a:1b:2c:3d:4e:5f", eth},
			{"2600:1f18::1/56", 2, 9001, def, "0a:1b:2c:3d:4e:5f", eth},
			{"10.0.0.5/8", 3, 1500, "eth1", "0a:1b:2c:3d:4e:60", eth},
		},
		"nodefault": {
			{"127.0.0.1/8", 1, 65536, "lo", "", loop},
			{"10.20.30.40/24", 2, 1500, "ens3", "52:54:00:12:34:56", eth},
			{"192.168.1.10/24", 3, 1500, "ens4", "52:54:00:12:34:57", eth},
		},
		"empty": {},
		"big":   saBigHost(def),
		// go-sockaddr's TestIfAddrMath addresses, at the edges of their families.
		"math": {
			{"127.0.0.1/8", 1, 65536, "lo", "", loop},
			{"::1/128", 1, 65536, "lo", "", loop},
			{"::4/128", 1, 65536, "lo", "", loop},
			{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 2, 1500, def, "", eth},
			{"2001:db8::1/64", 2, 1500, def, "", eth},
			{"fe80::1/10", 2, 1500, def, "", eth},
			{"0.0.0.0/0", 3, 1500, "eth1", "", eth},
			{"255.255.255.255/32", 3, 1500, "eth1", "", eth},
			{"10.0.0.1/31", 3, 1500, "eth1", "", eth},
			{"::/0", 3, 1500, "eth1", "", eth},
		},
	}
}

// saBigHost has 60 addresses, so sorts go through every stage of Go's pdqsort (ties included).
func saBigHost(def string) []SaIface {
	names := []string{def, "eth1", "eth2", "lo", "wg0", "br0"}
	var out []SaIface
	for i := 0; i < 60; i++ {
		name := names[(i*7)%len(names)]
		idx := (i*7)%len(names) + 1
		var addr string
		switch i % 4 {
		case 0:
			addr = fmt.Sprintf("10.%d.%d.%d/%d", i%3, (i*37)%256, (i*11)%256, 8+(i%5)*4)
		case 1:
			addr = fmt.Sprintf("%d.%d.0.%d/%d", 20+(i*13)%200, i%4, i%7, 16+(i%3)*8)
		case 2:
			addr = fmt.Sprintf("fd00:%x::%x/%d", i%5, i*3, 48+(i%3)*16)
		default:
			addr = fmt.Sprintf("2001:db8:%x::%x/%d", i%2, i, 64)
		}
		flags := eth
		if i%9 == 0 {
			flags = bc | mc
		}
		out = append(out, SaIface{addr, idx, 1500, name, fmt.Sprintf("02:00:00:00:00:%02x", idx), flags})
	}
	return out
}

// sockaddrRFCs prints go-sockaddr's KnownRFCs as src/template/sockaddr/rfc-table.ts lists them.
func sockaddrRFCs() {
	m := sockaddr.KnownRFCs()
	var keys []int
	for k := range m {
		keys = append(keys, int(k))
	}
	sort.Ints(keys)
	for _, k := range keys {
		fmt.Printf("  [%d, [", k)
		for i, sa := range m[uint(k)] {
			if i > 0 {
				fmt.Print(", ")
			}
			if v, ok := sa.(sockaddr.IPv4Addr); ok {
				fmt.Printf("'4/%08x/%d'", uint32(v.Address), v.Maskbits())
			} else {
				v := sa.(sockaddr.IPv6Addr)
				fmt.Printf("'6/%s/%d'", v.AddressHexString(), v.Maskbits())
			}
		}
		fmt.Println("]],")
	}
}

func saIfAddrs(list []SaIface) sockaddr.IfAddrs {
	out := sockaddr.IfAddrs{}
	for _, i := range list {
		ip, err := sockaddr.NewIPAddr(i.Address)
		if err != nil {
			panic(err)
		}
		hw, _ := net.ParseMAC(i.HW)
		out = append(out, sockaddr.IfAddr{SockAddr: ip, Interface: net.Interface{
			Index: i.Index, MTU: i.MTU, Name: i.Name, HardwareAddr: hw, Flags: net.Flags(i.Flags),
		}})
	}
	return out
}

// saOverrides are go-sockaddr's host-reading functions with GetAllInterfaces replaced by the fixed
// list (their bodies otherwise follow the library's ifaddr.go and ifaddrs.go).
func saOverrides(all sockaddr.IfAddrs, def string) template.FuncMap {
	getAll := func() (sockaddr.IfAddrs, error) { return append(sockaddr.IfAddrs(nil), all...), nil }
	getDefault := func() (sockaddr.IfAddrs, error) {
		if def == "" {
			return nil, fmt.Errorf("No default interface found")
		}
		var out sockaddr.IfAddrs
		for _, a := range all {
			if a.Name == def {
				out = append(out, a)
			}
		}
		return out, nil
	}
	interfacesBy := func(private bool) (sockaddr.IfAddrs, error) {
		ifs, _ := getAll()
		if len(ifs) == 0 {
			return sockaddr.IfAddrs{}, nil
		}
		ifs, _ = sockaddr.FilterIfByType(ifs, sockaddr.TypeIP)
		if len(ifs) == 0 {
			return sockaddr.IfAddrs{}, nil
		}
		ifs, _, _ = sockaddr.IfByFlag("forwardable", ifs)
		ifs, _, _ = sockaddr.IfByFlag("up", ifs)
		if len(ifs) == 0 {
			return sockaddr.IfAddrs{}, nil
		}
		sockaddr.OrderedIfAddrBy(sockaddr.AscIfDefault, sockaddr.AscIfType, sockaddr.AscIfNetworkSize).Sort(ifs)
		in, out, err := sockaddr.IfByRFC("6890", ifs)
		if err != nil {
			return sockaddr.IfAddrs{}, err
		}
		if private {
			return in, nil
		}
		return out, nil
	}
	first := func(private bool) (string, error) {
		ifs, err := interfacesBy(private)
		if err != nil || len(ifs) < 1 {
			return "", err
		}
		ip := *sockaddr.ToIPAddr(ifs[0].SockAddr)
		return ip.NetIP().String(), nil
	}
	ips := func(private bool) (string, error) {
		ifs, _ := getAll()
		if len(ifs) < 1 {
			return "", nil
		}
		ifs, _ = sockaddr.FilterIfByType(ifs, sockaddr.TypeIP)
		if len(ifs) == 0 {
			return "", nil
		}
		sockaddr.OrderedIfAddrBy(sockaddr.AscIfType, sockaddr.AscIfNetworkSize).Sort(ifs)
		in, out, err := sockaddr.IfByRFC("6890", ifs)
		if err != nil {
			return "", err
		}
		ifs = out
		if private {
			ifs = in
		}
		if len(ifs) == 0 {
			return "", nil
		}
		if private {
			_, ifs, _ = sockaddr.IfByRFC(sockaddr.ForwardingBlacklistRFC, ifs)
			if len(ifs) == 0 {
				return "", nil
			}
		}
		s := make([]string, 0, len(ifs))
		for _, a := range ifs {
			ip := *sockaddr.ToIPAddr(a.SockAddr)
			s = append(s, ip.NetIP().String())
		}
		return strings.Join(s, " "), nil
	}
	ifaceIP := func(re string, one bool) (string, error) {
		ifs, _ := getAll()
		ifs, _, err := sockaddr.IfByName(re, ifs)
		if err != nil {
			return "", err
		}
		if one {
			ifs, _, err = sockaddr.IfByFlag("forwardable", ifs)
			if err != nil {
				return "", err
			}
		}
		ifs, err = sockaddr.SortIfBy("+type,+size", ifs)
		if err != nil || len(ifs) == 0 {
			return "", err
		}
		if one {
			ip := sockaddr.ToIPAddr(ifs[0].SockAddr)
			if ip == nil {
				return "", nil
			}
			return sockaddr.IPAddrAttr(*ip, "address"), nil
		}
		s := make([]string, 0, len(ifs))
		for _, a := range ifs {
			ip := *sockaddr.ToIPAddr(a.SockAddr)
			s = append(s, ip.NetIP().String())
		}
		return strings.Join(s, " "), nil
	}
	return template.FuncMap{
		"GetAllInterfaces":     getAll,
		"GetDefaultInterfaces": getDefault,
		"GetPrivateInterfaces": func() (sockaddr.IfAddrs, error) { return interfacesBy(true) },
		"GetPublicInterfaces":  func() (sockaddr.IfAddrs, error) { return interfacesBy(false) },
		"GetPrivateIP":         func() (string, error) { return first(true) },
		"GetPublicIP":          func() (string, error) { return first(false) },
		"GetPrivateIPs":        func() (string, error) { return ips(true) },
		"GetPublicIPs":         func() (string, error) { return ips(false) },
		"GetInterfaceIP":       func(re string) (string, error) { return ifaceIP(re, true) },
		"GetInterfaceIPs":      func(re string) (string, error) { return ifaceIP(re, false) },
	}
}

// saEval is go-sockaddr's ParseIfAddrsTemplate with the overrides, wrapped as consul-template's
// `sockaddr` builds its input: the arguments joined by spaces inside {{ }}.
func saEval(args []string, all sockaddr.IfAddrs, def string) (out string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	input := fmt.Sprintf("{{ %s }}", strings.Join(args, " "))
	tmpl, err := template.New("sockaddr.Parse").Option("missingkey=error").
		Funcs(socktmpl.SourceFuncs).Funcs(socktmpl.SortFuncs).Funcs(socktmpl.FilterFuncs).
		Funcs(socktmpl.HelperFuncs).Funcs(saOverrides(all, def)).Parse(input)
	if err != nil {
		return "", fmt.Errorf("unable to parse template %+q: %s", input, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, all); err != nil {
		return "", fmt.Errorf("unable to execute sockaddr input %+q: %s", input, err)
	}
	return buf.String(), nil
}

func saDefault() string {
	ri, err := sockaddr.NewRouteInfo()
	if err != nil {
		panic(err)
	}
	name, err := ri.GetDefaultInterfaceName()
	if err != nil {
		panic("the fixed hosts need this machine's default route (go-sockaddr sorts by it): " + err.Error())
	}
	return name
}

func saWrite(v interface{}) {
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
}

func sockaddrGen() {
	def := saDefault()
	hosts := saHosts(def)
	var results []SaCase
	seen := map[string]bool{}
	for _, c := range sockaddrCases() {
		if seen[c.Name] {
			panic("duplicate case name " + c.Name)
		}
		seen[c.Name] = true
		d := def
		if c.Host == "nodefault" || c.Host == "empty" {
			d = ""
		}
		out, err := saEval(c.Args, saIfAddrs(hosts[c.Host]), d)
		if err != nil {
			msg := err.Error()
			c.Error = &msg
		} else {
			c.Output = &out
		}
		results = append(results, c)
	}
	saWrite(map[string]interface{}{
		"generator":         "tools/gotemplate sockaddr",
		"go":                runtime.Version(),
		"default_interface": def,
		"hosts":             hosts,
		"cases":             results,
	})
}

// sockaddrRealGen runs go-sockaddr's own template.Parse on this machine.
func sockaddrRealGen() {
	var results []SaCase
	for _, args := range sockaddrRealCases() {
		c := SaCase{Name: strings.Join(args, " "), Host: "real", Args: args}
		out, err := socktmpl.Parse(fmt.Sprintf("{{ %s }}", strings.Join(args, " ")))
		if err != nil {
			msg := err.Error()
			c.Error = &msg
		} else {
			c.Output = &out
		}
		results = append(results, c)
	}
	all, _ := socktmpl.Parse("{{ GetAllInterfaces }}")
	def, _ := socktmpl.Parse(`{{ GetDefaultInterfaces | attr "name" }}`)
	saWrite(map[string]interface{}{
		"generator":         "tools/gotemplate sockaddr-real",
		"go":                runtime.Version(),
		"interfaces":        all,
		"default_interface": def,
		"cases":             results,
	})
}

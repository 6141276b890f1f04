import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';
import { VERSION } from './version.js';

/**
 * Builds the CLI. Commands import their implementation lazily so `vmkit --help` stays fast. With `only`,
 * the other top-level commands are built detached and never registered: registering every command with
 * its options is most of the parser's start-up, and a run of one verb needs one.
 */
export function buildProgram(setExit: (code: number) => void, only?: string): Command {
  const program = new Command('vmkit')
    .description('Embeddable QEMU/KVM virtual machine manager')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  if (only !== undefined) {
    const register = program.command.bind(program) as (nameAndArgs: string) => Command;
    // Other verbs get a stand-in that takes every call and builds nothing (their options cost time to parse).
    const skipped: Command = new Proxy(() => undefined, { get: () => skipped, apply: () => skipped }) as unknown as Command;
    const filtered = (nameAndArgs: string): Command => (nameAndArgs.split(' ')[0] === only ? register(nameAndArgs) : skipped);
    program.command = filtered as unknown as typeof program.command;
  }

  program
    .command('run')
    .description('run one VM from FILE, embedded, and return when it ends (exit 0 when the guest powers off)')
    .argument('<file>', 'definition: native YAML, qemu-launcher YAML (a bare name is looked up in $QEMU_LAUNCHER_CONFIG_DIR)')
    .option('--console', 'attach the serial console to this terminal (otherwise it goes to the log)')
    .option('--grace <seconds>', 'on Ctrl-C/SIGTERM, seconds to wait for the ACPI power-off before stopping QEMU', '30')
    .option('--timeout <seconds>', 'bound on QEMU start-up, until the guest runs', '30')
    .option('--log <file>', 'append the serial console and QEMU messages to FILE')
    .option('--debug', 'print the tuning plan (pinning, schedulers, limits) applied before the guest runs')
    .option('--lenient', 'libvirt XML: warn about unsupported elements and leave them out instead of refusing the file')
    .option('--json', 'print the outcome as JSON')
    .action(async (file: string, flags) => {
      const { runCommand } = await import('./commands/run.js');
      setExit(await runCommand(file, flags));
    });

  program
    .command('argv')
    .description('print the QEMU command line that run would use, one argument per line')
    .argument('<file>', 'definition file')
    .option('--lenient', 'libvirt XML: warn about unsupported elements and leave them out instead of refusing the file')
    .option('--json', 'print as JSON')
    .action(async (file: string, flags) => {
      const { argvCommand } = await import('./commands/argv.js');
      setExit(await argvCommand(file, flags));
    });

  program
    .command('validate')
    .description('check a definition and report every problem with file:line:col (exit 2 if any)')
    .argument('<file>', 'definition file')
    .option('--no-host', 'check the file only, not against this host\'s QEMU binary')
    .option('--lenient', 'libvirt XML: warn about unsupported elements and leave them out instead of refusing the file')
    .option('--json', 'print as JSON')
    .action(async (file: string, flags) => {
      const { validateCommand } = await import('./commands/validate.js');
      setExit(await validateCommand(file, flags));
    });

  const host = program.command('host').description('facts about this host: QEMU capabilities and virtualization readiness');

  host
    .command('caps')
    .description('print what a QEMU binary offers (machines, CPU models, devices, backends), probed once and cached')
    .option('--binary <path>', 'QEMU binary: a name on PATH or a path', 'qemu-system-x86_64')
    .option('--json', 'print as JSON')
    .action(async (flags) => {
      const { hostCapsCommand } = await import('./commands/host-caps.js');
      setExit(await hostCapsCommand(flags));
    });

  host
    .command('validate')
    .description('check this host for running VMs: PASS / WARN / FAIL with a remedy each (exit 1 if any FAIL)')
    .option('--json', 'print as JSON')
    .action(async (flags) => {
      const { hostValidateCommand } = await import('./commands/host-validate.js');
      setExit(await hostValidateCommand(flags));
    });

  // ---- the daemon and the virsh-like domain verbs (they talk to the daemon, or to --connect URI) ----
  const CONNECT = ['-c, --connect <uri>', 'unix:///path/vmkit.sock or embed:///root (default: $VMKIT_URI, else the default daemon socket)'] as const;
  const POLICY = 'destroy, restart or preserve';

  program
    .command('daemon')
    .description('serve the domains of a root over HTTP/JSON on a unix socket; VMs outlive daemon restarts')
    .option('--socket <path>', 'unix socket (default /run/vmkit/vmkit.sock as root, $XDG_RUNTIME_DIR/vmkit/vmkit.sock otherwise)')
    .option('--root <dir>', 'state directory (default /var/lib/vmkit as root, ~/.local/share/vmkit otherwise)')
    .option('--socket-mode <octal>', 'socket file mode', '0660')
    .option('--no-autostart', 'do not start the domains marked autostart')
    .option('--nice <n>', 'nice value of the daemon\'s threads, e.g. -10 (QEMU keeps the normal priority)')
    .option('--web <host:port>', 'serve the web dashboard there (loopback only, unless --allow-non-loopback); prints its token at start')
    .option('--metrics <host:port>', 'serve Prometheus metrics (GET /metrics, no token) there too, besides the socket (loopback only, unless --allow-non-loopback)')
    .option('--allow-non-loopback', 'let --web/--metrics listen on an address other hosts reach (plain HTTP: the token and the metrics can be read on the way)')
    .option('--allow-raw', 'let clients that are not root define privileged options too (emulator outside the allowlist, env, qemu_args, user/group, host devices, files outside the domain\'s directory)')
    .option('--qemu-user <user>', 'account QEMU runs as when a definition names none (default vmkit-qemu as root; "self": the daemon\'s own)')
    .option('--emulator <path>', 'a QEMU binary any client may name as emulator (absolute path; repeatable; default qemu-system-* in /usr/bin and /usr/local/bin)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--json', 'print the ready line as JSON')
    .action(async (flags) => {
      const { daemonCommand } = await import('./commands/daemon.js');
      setExit(await daemonCommand(flags));
    });

  program
    .command('define')
    .description('store definitions (vmkit YAML, qemu-launcher YAML or libvirt XML); redefining keeps the UUID; several files go in batches, each defined or refused on its own')
    .argument('<file...>', 'definition files (a bare name is looked up in $QEMU_LAUNCHER_CONFIG_DIR)')
    .option('--autostart', 'start the domain when the daemon starts')
    .option('--on-poweroff <action>', `when the guest powers off: ${POLICY}`)
    .option('--on-reboot <action>', 'when the guest reboots: restart or destroy')
    .option('--on-crash <action>', `when the guest or QEMU crashes: ${POLICY}`)
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (files: string[], flags) => {
      const { defineCommand } = await import('./commands/define.js');
      setExit(await defineCommand(files, flags));
    });

  program
    .command('undefine')
    .description('remove a shut-off domain\'s definition')
    .argument('<name>', 'domain name or UUID')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, flags) => {
      const { undefineCommand } = await import('./commands/undefine.js');
      setExit(await undefineCommand(name, flags));
    });

  program
    .command('start')
    .description('start a defined domain')
    .argument('<name>', 'domain name or UUID')
    .option('--paused', 'leave the guest paused')
    .option('--console', 'attach the serial console once started')
    .option('--timeout <seconds>', 'bound on the start')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, flags) => {
      const { startCommand } = await import('./commands/start.js');
      setExit(await startCommand(name, flags));
    });

  program
    .command('shutdown')
    .description('ask the guest to power off (ACPI) and wait for it')
    .argument('<name>', 'domain name or UUID')
    .option('--timeout <seconds>', 'how long to wait (default 60)')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, flags) => {
      const { shutdownCommand } = await import('./commands/shutdown.js');
      setExit(await shutdownCommand(name, flags));
    });

  program
    .command('destroy')
    .description('stop QEMU now (SIGTERM, then SIGKILL after the grace period)')
    .argument('<name>', 'domain name or UUID')
    .option('--grace <seconds>', 'SIGTERM to SIGKILL delay (default 3)')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, flags) => {
      const { destroyCommand } = await import('./commands/destroy.js');
      setExit(await destroyCommand(name, flags));
    });

  for (const [verb, what] of [
    ['reboot', 'reset the guest (QMP system_reset)'],
    ['suspend', 'pause the guest\'s vCPUs'],
    ['resume', 'let a paused guest run again'],
  ] as const) {
    program
      .command(verb)
      .description(what)
      .argument('<name>', 'domain name or UUID')
      .option(...CONNECT)
      .option('--json', 'print as JSON')
      .action(async (name: string, flags) => {
        const mod = await import(`./commands/${verb}.js`) as Record<string, (n: string, f: unknown) => Promise<number>>;
        const run = mod[`${verb}Command`];
        if (run !== undefined) setExit(await run(name, flags));
      });
  }

  program
    .command('list')
    .description('list running domains (--all: every defined domain)')
    .option('--all', 'include shut-off domains')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (flags) => {
      const { listCommand } = await import('./commands/list.js');
      setExit(await listCommand(flags));
    });

  program
    .command('show')
    .description('state, pid, uptime, vCPUs, memory, disks, NICs, console and last stop of a domain')
    .argument('<name>', 'domain name or UUID')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, flags) => {
      const { showCommand } = await import('./commands/show.js');
      setExit(await showCommand(name, flags));
    });

  program
    .command('dumpxml')
    .description('print the definition as libvirt domain XML (exported when it was defined as YAML)')
    .argument('<name>', 'domain name or UUID')
    .option(...CONNECT)
    .option('--json', 'print as JSON ({format, text})')
    .action(async (name: string, flags) => {
      const { dumpxmlCommand } = await import('./commands/dumpxml.js');
      setExit(await dumpxmlCommand(name, flags));
    });

  program
    .command('dump')
    .description('print the definition in its native format (YAML or libvirt XML, as defined)')
    .argument('<name>', 'domain name or UUID')
    .option(...CONNECT)
    .option('--json', 'print as JSON ({format, text})')
    .action(async (name: string, flags) => {
      const { dumpCommand } = await import('./commands/dump.js');
      setExit(await dumpCommand(name, flags));
    });

  program
    .command('autostart')
    .description('start the domain when the daemon starts (--disable: no longer)')
    .argument('<name>', 'domain name or UUID')
    .option('--disable', 'turn autostart off')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, flags) => {
      const { autostartCommand } = await import('./commands/autostart.js');
      setExit(await autostartCommand(name, flags));
    });

  program
    .command('stats')
    .description('statistics of a running domain: vCPU time, memory, disk and NIC counters (--watch: rates every few seconds)')
    .argument('<name>', 'domain name or UUID')
    .option('--watch [seconds]', 'print rates every SECONDS (default 2) until Ctrl-C or the domain stops')
    .option(...CONNECT)
    .option('--json', 'print as JSON (with --watch: one sample per line)')
    .action(async (name: string, flags) => {
      const { statsCommand } = await import('./commands/stats.js');
      setExit(await statsCommand(name, flags));
    });

  program
    .command('top')
    .description('every domain with its CPU, memory, disk and network rates, refreshed (like virt-top)')
    .option('--interval <seconds>', 'refresh interval (default 2)')
    .option('--once', 'print one table and exit')
    .option(...CONNECT)
    .option('--json', 'one JSON object per refresh')
    .action(async (flags) => {
      const { topCommand } = await import('./commands/top.js');
      setExit(await topCommand(flags));
    });

  program
    .command('console')
    .description('attach this terminal to a running domain\'s serial console (Ctrl-] detaches)')
    .argument('<name>', 'domain name or UUID')
    .option(...CONNECT)
    .action(async (name: string, flags) => {
      const { consoleCommand } = await import('./commands/console.js');
      setExit(await consoleCommand(name, flags));
    });

  program
    .command('events')
    .description('print lifecycle events as they happen (NDJSON with --json)')
    .option('--domain <name>', 'only this domain')
    .option('--count <n>', 'stop after N events')
    .option('--timeout <seconds>', 'stop after this long')
    .option(...CONNECT)
    .option('--json', 'one JSON event per line')
    .action(async (flags) => {
      const { eventsCommand } = await import('./commands/events.js');
      setExit(await eventsCommand(flags));
    });

  // ---- images and volumes (virt-builder compatible template repositories; volumes of the root) ----
  const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
  const image = program.command('image').description('template repositories (virt-builder compatible): list, notes, get, build, cache, index');
  const repoOpts = (c: Command): Command =>
    c
      .option('--arch <arch>', 'architecture (default: this host\'s)')
      .option('--no-check-signature', 'accept unsigned indexes (templates are still checked against their SHA-512)')
      .option(...CONNECT)
      .option('--json', 'print as JSON');
  repoOpts(image.command('list').description('list the templates of every configured repository (virt-builder --list layout)').option('--long', 'details and notes (virt-builder --list --long)')).action(async (flags) => {
    const { imageListCommand } = await import('./commands/image.js');
    setExit(await imageListCommand(flags));
  });
  repoOpts(image.command('notes').description('print a template\'s notes (virt-builder --notes)').argument('<id>', 'os-version or alias')).action(async (id: string, flags) => {
    const { imageNotesCommand } = await import('./commands/image.js');
    setExit(await imageNotesCommand(id, flags));
  });
  repoOpts(image.command('get').description('download a template into the cache: checked against its SHA-512, decompressed, resumable').argument('<id>', 'os-version or alias').option('--quiet', 'no progress')).action(async (id: string, flags) => {
    const { imageGetCommand } = await import('./commands/image.js');
    setExit(await imageGetCommand(id, flags));
  });
  repoOpts(
    image
      .command('build')
      .description('make a disk from a template; customizations go into a cloud-init NoCloud seed beside it (the guest needs cloud-init)')
      .argument('<id>', 'os-version or alias')
      .option('-o, --output <file>', 'the disk file to write (over a daemon: clients with uid 0 only)')
      .option('--volume <name>', 'write a volume of the root instead (and NAME-cidata for the seed)')
      .option('--size <size>', 'virtual size, e.g. 20G (default and minimum: the template\'s)')
      .option('--format <format>', 'raw (a standalone copy, default) or qcow2 (an overlay on the cached template)')
      .option('--standalone', 'with --format qcow2: a full copy instead of an overlay')
      .option('--hostname <name>', 'the guest\'s host name')
      .option('--root-password <selector>', 'password:PASSWORD, file:FILENAME or random (printed)')
      .option('--ssh-inject <user[:keyfile]>', 'authorize a key for USER (KEYFILE, file:F, string:KEY; default ~/.ssh/*.pub); repeatable', collect)
      .option('--install <pkgs>', 'packages to install at first boot (comma-separated); repeatable', collect)
      .option('--run-command <cmd>', 'run early in the first boot (cloud-init bootcmd, once); repeatable', collect)
      .option('--firstboot-command <cmd>', 'run late in the first boot (cloud-init runcmd); repeatable', collect)
      .option('--upload <src:dst>', 'put local file SRC at DST in the guest; repeatable', collect)
      .option('--write <file:content>', 'write CONTENT to FILE in the guest; repeatable', collect)
      .option('--timezone <tz>', 'time zone, e.g. Europe/London')
      .option('--quiet', 'no progress'),
  ).action(async (id: string, flags) => {
    const { imageBuildCommand } = await import('./commands/image.js');
    setExit(await imageBuildCommand(id, flags));
  });
  image
    .command('cache')
    .description('list the templates in the cache')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (flags) => {
      const { imageCacheCommand } = await import('./commands/image.js');
      setExit(await imageCacheCommand(flags));
    });
  image
    .command('index')
    .description('publish a folder of templates: write index (SHA-512, sizes) and, with --sign, the clearsigned index.asc')
    .argument('<dir>', 'the folder')
    .option('--sign <keyfile>', 'armoured OpenPGP private key (passphrase in $VMKIT_SIGN_PASSPHRASE)')
    .option('--arch <arch>', 'architecture of new entries (default: this host\'s)')
    .option('--json', 'print as JSON')
    .action(async (dir: string, flags) => {
      const { imageIndexCommand } = await import('./commands/image.js');
      setExit(await imageIndexCommand(dir, flags));
    });

  const vol = program.command('vol').description('volumes of the root: create, overlay, resize, info, delete, list');
  const volCmd = (c: Command): Command => c.option(...CONNECT).option('--json', 'print as JSON');
  volCmd(vol.command('create').description('a new empty volume').argument('<name>', 'volume name').option('--size <size>', 'virtual size, e.g. 10G').option('--format <format>', 'qcow2 (default) or raw')).action(async (name: string, flags) => {
    const { volCreateCommand } = await import('./commands/vol.js');
    setExit(await volCreateCommand(name, flags));
  });
  volCmd(
    vol
      .command('overlay')
      .description('a qcow2 volume on a backing image, its format stated (instant)')
      .argument('<name>', 'volume name')
      .option('--backing <image>', 'a cached template (debian-12), volume:NAME, or a file (with --backing-format; uid 0 over a daemon)')
      .option('--backing-format <format>', 'format of a backing file')
      .option('--size <size>', 'virtual size (default: the backing image\'s)')
      .option('--arch <arch>', 'template architecture'),
  ).action(async (name: string, flags) => {
    const { volOverlayCommand } = await import('./commands/vol.js');
    setExit(await volOverlayCommand(name, flags));
  });
  volCmd(vol.command('resize').description('grow a volume (--shrink to shrink it)').argument('<name>', 'volume name').argument('<size>', 'new virtual size').option('--shrink', 'allow shrinking (data past the end is lost)')).action(
    async (name: string, size: string, flags) => {
      const { volResizeCommand } = await import('./commands/vol.js');
      setExit(await volResizeCommand(name, size, flags));
    },
  );
  for (const [verb, what] of [
    ['info', 'format, sizes and backing file of a volume'],
    ['delete', 'remove a volume no domain uses'],
  ] as const) {
    volCmd(vol.command(verb).description(what).argument('<name>', 'volume name')).action(async (name: string, flags) => {
      const m = await import('./commands/vol.js');
      setExit(await (verb === 'info' ? m.volInfoCommand : m.volDeleteCommand)(name, flags));
    });
  }
  volCmd(vol.command('list').description('every volume of the root')).action(async (flags) => {
    const { volListCommand } = await import('./commands/vol.js');
    setExit(await volListCommand(flags));
  });

  // ---- changes to a running VM (src/vmops) ----
  const PERSISTENT = ['--persistent', 'also change the stored definition (like virsh --config)'] as const;
  program
    .command('attach-disk')
    .description('hot-plug a virtio disk into a running domain (on a PCIe root port reserved at start)')
    .argument('<name>', 'domain name or UUID')
    .argument('<path>', 'the image')
    .requiredOption('--format <format>', 'image format: raw, qcow2, ... (never guessed)')
    .option('--id <id>', 'device id (default: generated)')
    .option('--readonly', 'read-only disk')
    .option('--serial <serial>', 'serial number the guest sees')
    .option('--cache <mode>', 'none, writeback, writethrough, directsync or unsafe')
    .option(...PERSISTENT)
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, path: string, flags) => {
      const { attachDiskCommand } = await import('./commands/attach-disk.js');
      setExit(await attachDiskCommand(name, path, flags));
    });

  program
    .command('detach-disk')
    .description('unplug a disk from a running domain; waits for the guest to let go')
    .argument('<name>', 'domain name or UUID')
    .argument('<id>', 'disk id')
    .option('--timeout <seconds>', 'how long to wait for the guest (default 30)')
    .option(...PERSISTENT)
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, id: string, flags) => {
      const { detachDiskCommand } = await import('./commands/detach-disk.js');
      setExit(await detachDiskCommand(name, id, flags));
    });

  program
    .command('attach-nic')
    .description('hot-plug a virtio NIC into a running domain')
    .argument('<name>', 'domain name or UUID')
    .option('--type <type>', 'user (default) or tap')
    .option('--ifname <tap>', 'tap: the existing tap device')
    .option('--mac <mac>', 'MAC address')
    .option('--id <id>', 'device id (default: generated)')
    .option(...PERSISTENT)
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, flags) => {
      const { attachNicCommand } = await import('./commands/attach-nic.js');
      setExit(await attachNicCommand(name, flags));
    });

  program
    .command('detach-nic')
    .description('unplug a NIC from a running domain; waits for the guest to let go')
    .argument('<name>', 'domain name or UUID')
    .argument('<id>', 'NIC id')
    .option('--timeout <seconds>', 'how long to wait for the guest (default 30)')
    .option(...PERSISTENT)
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, id: string, flags) => {
      const { detachNicCommand } = await import('./commands/detach-nic.js');
      setExit(await detachNicCommand(name, id, flags));
    });

  program
    .command('setvcpus')
    .description('set the number of vCPUs of a running domain (hot-plug up to cpu.max_vcpus; new vCPUs get the definition\'s pins before they run)')
    .argument('<name>', 'domain name or UUID')
    .argument('<count>', 'vCPUs')
    .option('--timeout <seconds>', 'unplug: how long to wait for the guest (default 30)')
    .option(...PERSISTENT)
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, count: string, flags) => {
      const { setvcpusCommand } = await import('./commands/setvcpus.js');
      setExit(await setvcpusCommand(name, count, flags));
    });

  program
    .command('setmem')
    .description('virtio-mem: how much of the domain\'s hot-pluggable memory (virtio_mem.size) the guest should have plugged; waits for the guest')
    .argument('<name>', 'domain name or UUID')
    .argument('<size>', 'e.g. 512M, 1G (a bare number is MiB); 0 takes it all back')
    .option('--timeout <seconds>', 'how long to wait for the guest (default 30)')
    .option(...PERSISTENT)
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, size: string, flags) => {
      const { setmemCommand } = await import('./commands/setmem.js');
      setExit(await setmemCommand(name, size, flags));
    });

  program
    .command('save')
    .description('save a running domain\'s state to a file in the root and stop QEMU; start restores it (managedsave)')
    .argument('<name>', 'domain name or UUID')
    .option('--discard', 'forget the saved state instead (the next start boots afresh)')
    .option('--timeout <seconds>', 'bound on writing the state (default 600)')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, flags) => {
      const { saveCommand } = await import('./commands/save.js');
      setExit(await saveCommand(name, flags));
    });

  const snapshot = program.command('snapshot').description('snapshots of a running domain: internal (qcow2, with memory) or external (disk-only overlays)');
  snapshot
    .command('create')
    .argument('<name>', 'domain name or UUID')
    .argument('[snapshot]', 'snapshot name (with --xmlfile: its <name>, else the time)')
    .option('--external', 'disk-only: new qcow2 overlays on the disks (default: internal, with memory)')
    .option('--description <text>', 'free text kept with the snapshot')
    .option('--xmlfile <file>', "libvirt <domainsnapshot> XML: name, description, memory, disks (snapshot='external' with <source file>)")
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, snap: string | undefined, flags) => {
      const { snapshotCreateCommand } = await import('./commands/snapshot.js');
      setExit(await snapshotCreateCommand(name, snap, flags));
    });
  snapshot
    .command('list')
    .argument('<name>', 'domain name or UUID')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, flags) => {
      const { snapshotListCommand } = await import('./commands/snapshot.js');
      setExit(await snapshotListCommand(name, flags));
    });
  snapshot
    .command('revert')
    .argument('<name>', 'domain name or UUID')
    .argument('<snapshot>', 'snapshot name (internal)')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, snap: string, flags) => {
      const { snapshotRevertCommand } = await import('./commands/snapshot.js');
      setExit(await snapshotRevertCommand(name, snap, flags));
    });
  snapshot
    .command('delete')
    .argument('<name>', 'domain name or UUID')
    .argument('<snapshot>', 'snapshot name')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, snap: string, flags) => {
      const { snapshotDeleteCommand } = await import('./commands/snapshot.js');
      setExit(await snapshotDeleteCommand(name, snap, flags));
    });
  snapshot
    .command('dumpxml')
    .description('a snapshot as libvirt <domainsnapshot> XML')
    .argument('<name>', 'domain name or UUID')
    .argument('<snapshot>', 'snapshot name')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, snap: string, flags) => {
      const { snapshotDumpxmlCommand } = await import('./commands/snapshot.js');
      setExit(await snapshotDumpxmlCommand(name, snap, flags));
    });
  snapshot
    .command('commit')
    .description('merge a disk\'s active overlay (external snapshot) back into its backing image')
    .argument('<name>', 'domain name or UUID')
    .argument('<disk>', 'disk id')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, disk: string, flags) => {
      const { snapshotCommitCommand } = await import('./commands/snapshot.js');
      setExit(await snapshotCommitCommand(name, disk, flags));
    });

  program
    .command('migrate')
    .description('live-migrate a running domain to another vmkit daemon (pre-copy, progress on stderr)')
    .argument('<name>', 'domain name or UUID')
    .option('--to <uri>', 'the other daemon: unix:///path/vmkit.sock')
    .option('--auto-converge', 'throttle the guest when pre-copy does not converge')
    .option('--postcopy', 'switch to post-copy after the first pass')
    .option('--bandwidth <MiB/s>', 'cap the migration\'s bandwidth')
    .option('--cancel', 'cancel the migration under way instead')
    .option('--timeout <seconds>', 'give up (and cancel) after this long (default 600)')
    .option(...CONNECT)
    .option('--json', 'print as JSON')
    .action(async (name: string, flags) => {
      const { migrateCommand } = await import('./commands/migrate.js');
      setExit(await migrateCommand(name, flags));
    });

  return program;
}

export { VERSION };

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const setExit = (c: number): void => {
    code = c;
  };
  // The verb being run, when it comes first; help, a misspelt verb and the like get every command.
  const first = argv[2];
  const verb = first !== undefined && !first.startsWith('-') ? first : undefined;
  let program = buildProgram(setExit, verb);
  if (verb !== undefined && !program.commands.some((c) => c.name() === verb)) program = buildProgram(setExit);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors are bad input
      return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    throw e;
  }
  return code;
}


// What the Node load generators (socketio_load, socketio_broadcast_load,
// redis_broadcast_load) measure besides their messages: a process's CPU time, how busy each
// core was, and the load's own CPU.
import { readFileSync } from "node:fs";

const TICKS = 100; // USER_HZ on Linux

// User + system CPU seconds of process `pid` so far (/proc/PID/stat).
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

// Busy and total jiffies of each core, from /proc/stat: how busy the machine was.
export function coreTimes() {
  return readFileSync("/proc/stat", "utf8").split("\n")
    .filter((line) => /^cpu\d/.test(line))
    .map((line) => {
      const t = line.split(/\s+/).slice(1).map(Number);
      const total = t.reduce((a, b) => a + b, 0);
      return { busy: total - t[3] - t[4], total }; // less idle and iowait
    });
}

// This process's own CPU seconds so far.
export function ownCpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

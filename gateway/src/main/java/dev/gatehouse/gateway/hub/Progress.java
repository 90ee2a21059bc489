package dev.gatehouse.gateway.hub;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reports a pull: a one-line bar with bytes, speed and ETA redrawn in place on a terminal, and plain log
 * lines (one per file) otherwise, so CI logs stay readable. The admin API subclasses it to keep counters.
 */
public class Progress {
    private final PrintWriter out;
    private final boolean terminal;
    private final AtomicLong done = new AtomicLong();
    private long total;
    private long startNanos;
    private long resumedBytes;
    private volatile long lastDrawNanos;

    public Progress(PrintWriter out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    /** A bar on a terminal, log lines when output is piped or redirected. */
    public static Progress forConsole(PrintWriter out) {
        return new Progress(out, System.console() != null);
    }

    public void start(int files, long totalBytes, long alreadyBytes) {
        this.total = totalBytes;
        this.resumedBytes = alreadyBytes;
        this.done.set(alreadyBytes);
        this.startNanos = System.nanoTime();
        log("downloading " + files + " files, " + bytes(totalBytes)
                + (alreadyBytes > 0 ? " (" + bytes(alreadyBytes) + " already here)" : ""));
    }

    public void advance(long n) {
        long now = System.nanoTime();
        done.addAndGet(n);
        if (terminal && now - lastDrawNanos > 200_000_000L) {
            lastDrawNanos = now;
            draw();
        }
    }

    public void fileDone(HubFile file, boolean skipped) {
        if (terminal) {
            draw();
        } else {
            log((skipped ? "already complete " : "downloaded ") + file.path() + " (" + bytes(file.size()) + ")");
        }
    }

    public synchronized void log(String line) {
        if (terminal) {
            out.print("\r\033[K");
        }
        out.println(line);
        out.flush();
    }

    public void finish() {
        if (terminal) {
            draw();
            out.println();
        }
        double seconds = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
        log(String.format(Locale.ROOT, "downloaded %s in %.1f s", bytes(done.get() - resumedBytes), seconds));
    }

    private synchronized void draw() {
        long d = done.get();
        double seconds = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
        double speed = (d - resumedBytes) / seconds;
        int width = 30;
        int filled = total == 0 ? width : (int) Math.min(width, width * d / total);
        String eta = speed > 0 ? duration((long) ((total - d) / speed)) : "--";
        out.print("\r\033[K[" + "#".repeat(filled) + " ".repeat(width - filled) + "] "
                + bytes(d) + " / " + bytes(total) + "  " + bytes((long) speed) + "/s  ETA " + eta);
        out.flush();
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    private static String duration(long s) {
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}

package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.hub.StoredModels;
import dev.gatehouse.gateway.hub.StoredModel;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.MemoryEstimate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code gatehouse models list}: what is in the model store and whether Gatehouse can serve it. */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = "List the models in the store: architecture, parameters, dtype, size on disk, "
                + "estimated memory to serve on the CPU (default engine settings), servable.")
public final class ModelsListCommand implements Callable<Integer> {
    private static final String ROW = "%-32s %-24s %8s %-9s %10s %10s %s%n";

    @Spec
    CommandSpec spec;

    @Mixin
    ModelStore store;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path root = store.root();
        List<StoredModel> models = new StoredModels(root).list();
        if (models.isEmpty()) {
            out.println("no models in " + root.toAbsolutePath() + "; get one with `scripts/download-model ORG/NAME`");
            return 0;
        }
        out.printf(ROW, "NAME", "ARCHITECTURE", "PARAMS", "DTYPE", "SIZE", "MEMORY", "SERVABLE");
        for (StoredModel m : models) {
            out.printf(ROW, m.name(), m.architecture() == null ? "-" : m.architecture(),
                    count(m.weights().parameters()), m.weights().dtypes(), size(m.sizeBytes()), memory(root.resolve(m.name())), m.servable() ? "yes" : "no");
        }
        return 0;
    }

    /**
     * What a chat model needs to serve on the CPU with the default engine settings (weights, KV cache,
     * working buffers: what serve checks before loading it); "-" for a folder that is not one.
     */
    static String memory(Path folder) {
        try {
            return size(MemoryEstimate.forEngine(folder, DtypeChoice.AUTO, EngineConfig.defaults()).totalBytes());
        } catch (RuntimeException e) { // an embedding model or an architecture Gatehouse does not run
            return "-";
        }
    }

    /** 494M, 1.2B: the way model cards write parameter counts. */
    static String count(long n) {
        if (n < 0) {
            return "-";
        }
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.1fB", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.0fM", n / 1e6);
        }
        return n >= 1_000 ? String.format(Locale.ROOT, "%.0fK", n / 1e3) : String.valueOf(n);
    }

    static String size(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}

package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.hub.StoredModels;
import dev.gatehouse.gateway.hub.Manifest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code gatehouse models verify NAME}: re-hash a pulled model's files against its manifest. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Re-hash a pulled model's files against its gatehouse-manifest.json; exit 1 on any mismatch.")
public final class ModelsVerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The model's folder name, as `models list` shows it.")
    String name;

    @Mixin
    ModelStore store;

    @Override
    public Integer call() throws Exception {
        StoredModels models = new StoredModels(store.root());
        List<String> problems = models.verify(name);
        Manifest manifest = models.manifest(name);
        if (problems.isEmpty()) {
            spec.commandLine().getOut().println("ok: " + name + ": " + manifest.files().size() + " files match the manifest ("
                    + manifest.repo() + " at " + manifest.commit() + ")");
            return 0;
        }
        PrintWriter err = spec.commandLine().getErr();
        problems.forEach(p -> err.println("mismatch: " + p));
        err.println("error: " + name + " does not match its manifest (" + problems.size() + " files); remove it with `models rm "
                + name + "` and pull " + manifest.repo() + " again");
        return 1;
    }
}

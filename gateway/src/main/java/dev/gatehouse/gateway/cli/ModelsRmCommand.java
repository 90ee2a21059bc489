package dev.gatehouse.gateway.cli;

import dev.gatehouse.gateway.hub.StoredModels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code gatehouse models rm NAME}: delete a model folder (and any unfinished pull of it) from the store. */
@Command(name = "rm", mixinStandardHelpOptions = true, description = "Delete a model from the store.")
public final class ModelsRmCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The model's folder name, as `models list` shows it.")
    String name;

    @Mixin
    ModelStore store;

    @Override
    public Integer call() throws Exception {
        long freed = new StoredModels(store.root()).remove(name);
        spec.commandLine().getOut().println("removed " + name + " (" + ModelsListCommand.size(freed) + " freed)");
        return 0;
    }
}

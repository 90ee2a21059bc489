package dev.gatehouse.gateway.cli;

import ai.djl.engine.Engine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;

/** {@code gatehouse info}: which engine and devices this installation runs on (loads libtorch). */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show the engine version and the devices it sees.")
public final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Engine engine = Engine.getEngine("PyTorch");
        spec.commandLine().getOut().printf("engine: %s %s%ngpus: %d%ndefault device: %s%njava: %s%n",
                engine.getEngineName(), engine.getVersion(), engine.getGpuCount(), engine.defaultDevice(),
                Runtime.version());
        return 0;
    }
}

package dev.gatehouse.gateway;

import dev.gatehouse.gateway.cli.ChatCommand;
import dev.gatehouse.gateway.cli.GenerateCommand;
import dev.gatehouse.gateway.cli.InfoCommand;
import dev.gatehouse.gateway.cli.KeysCommand;
import dev.gatehouse.gateway.cli.ModelsCommand;
import dev.gatehouse.gateway.cli.ServeCommand;
import dev.gatehouse.gateway.cli.UsageCommand;
import dev.gatehouse.serving.NativeLibraries;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.InputStream;
import java.util.logging.LogManager;

/** The {@code gatehouse} command line: {@code scripts/gatehouse --help}. */
@Command(name = "gatehouse", mixinStandardHelpOptions = true, version = "gatehouse 0.1.0",
        description = "Self-hosted OpenAI-compatible gateway for open models.",
        subcommands = {ServeCommand.class, ChatCommand.class, GenerateCommand.class, InfoCommand.class, ModelsCommand.class,
                KeysCommand.class, UsageCommand.class})
public final class Main {

    public static void main(String[] args) {
        configureLogging();
        NativeLibraries.pinOffline(); // DJL never downloads a native library while the gateway runs
        System.exit(commandLine().execute(args));
    }

    /** Reads logging.properties from the class path unless the user points JUL elsewhere. */
    private static void configureLogging() {
        if (System.getProperty("java.util.logging.config.file") != null) {
            return;
        }
        try (InputStream in = Main.class.getResourceAsStream("/logging.properties")) {
            if (in != null) {
                LogManager.getLogManager().readConfiguration(in);
            }
        } catch (IOException e) {
            System.err.println("warning: cannot read logging.properties: " + e.getMessage());
        }
    }

    /** The CLI with one error policy for every command: a clear message, no stack trace. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            if (System.getenv("GATEHOUSE_DEBUG") != null) {
                e.printStackTrace(commandLine.getErr());
            }
            return 1;
        });
        return cli;
    }
}

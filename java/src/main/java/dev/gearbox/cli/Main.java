package dev.gearbox.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * The {@code gearbox} command. Exit codes: 0 success, 1 an error while running (bad model file,
 * prompt too long, ...: one line on stderr, the stack trace too when {@code GEARBOX_DEBUG=1}),
 * 2 a usage error (unknown option, missing argument: the message and the usage on stderr).
 */
@Command(name = "gearbox",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Runs GGUF language models on the CPU.",
        subcommands = {
                GenerateCommand.class,
                ChatCommand.class,
                TokenizeCommand.class,
                TemplateCommand.class,
                BenchCommand.class,
                InspectCommand.class,
                SynthCommand.class,
                RouteCommand.class,
                BenchRouterCommand.class,
                CalibrateCommand.class,
                DemoCommand.class,
                ServeCommand.class,
                LoadBenchCommand.class,
                BatchCommand.class,
                ProfileCommand.class,
                SvfCommand.class,
                CommandLine.HelpCommand.class,
        },
        footer = {"", "Run 'gearbox COMMAND --help' for a command's options. Set GEARBOX_DEBUG=1 for stack traces."})
public final class Main implements Runnable {
    public static final int EXIT_OK = 0;
    public static final int EXIT_ERROR = 1;
    public static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a command (generate, chat, tokenize, bench, ...)");
    }

    /** A command line with Gearbox's error handling; tests call {@code execute} on it with their own out/err. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            reportError(commandLine.getErr(), e);
            return EXIT_ERROR;
        });
        return cl;
    }

    /** Like {@link #commandLine()} with {@code chat} reading from {@code in}. */
    public static CommandLine commandLine(InputStream in) {
        CommandLine cl = commandLine();
        ((ChatCommand) cl.getSubcommands().get("chat").getCommand()).input = in;
        return cl;
    }

    public static void main(String[] args) {
        // Model text is UTF-8 whatever the locale says.
        PrintWriter out = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.err), StandardCharsets.UTF_8), true);
        int code;
        try {
            CommandLine cl = commandLine();
            cl.setOut(out);
            cl.setErr(err);
            code = cl.execute(args);
        } catch (Throwable t) { // Errors (out of memory, ...) are not handled by picocli
            reportError(err, t);
            code = EXIT_ERROR;
        }
        out.flush();
        err.flush();
        System.exit(code);
    }

    static boolean debug() {
        return "1".equals(System.getenv("GEARBOX_DEBUG"));
    }

    static void reportError(PrintWriter err, Throwable e) {
        if (debug()) e.printStackTrace(err);
        err.println("gearbox: error: " + describe(e));
        err.flush();
    }

    /** One line that says what went wrong, without the Java exception class unless there is no message. */
    static String describe(Throwable e) {
        if (e instanceof OutOfMemoryError) {
            return "out of memory (" + e.getMessage() + "); try a smaller --ctx, or give Java more heap with JAVA_OPTS=-Xmx...";
        }
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            Throwable cause = e.getCause();
            return cause != null && cause != e ? describe(cause) : e.getClass().getSimpleName();
        }
        return m.replace('\n', ' ');
    }

    /** Version from the jar's Maven metadata, plus the Java runtime it runs on. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {
                    "gearbox " + version(),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vendor", "?") + "), "
                            + System.getProperty("os.name") + " " + System.getProperty("os.arch")
            };
        }

        static String version() {
            try (InputStream in = Main.class.getResourceAsStream("/META-INF/maven/dev.gearbox/gearbox/pom.properties")) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    return p.getProperty("version", "unknown");
                }
            } catch (Exception ignored) {
                // fall through: not running from the packaged jar
            }
            return "(development build)";
        }
    }
}

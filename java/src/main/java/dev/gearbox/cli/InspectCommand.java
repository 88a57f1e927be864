package dev.gearbox.cli;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFInspector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code gearbox inspect FILE}: header, metadata, tensors and totals of a GGUF file. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a GGUF file's version, metadata, tensors and totals.")
public final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "the GGUF file") Path file;

    @Option(names = "--json", description = "print JSON instead of text") boolean json;

    @Option(names = "--elements", paramLabel = "N", description = "array elements to show (default ${DEFAULT-VALUE})")
    int elements = 5;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (elements < 0) {
            err.println("inspect: --elements must be >= 0");
            return 2;
        }
        try (GGUFFile f = GGUFFile.open(file)) {
            GGUFInspector inspector = new GGUFInspector(f, elements);
            if (json) inspector.printJson(out);
            else inspector.printText(out);
            return 0;
        } catch (IOException e) {
            // GGUFFormatException messages already name the file, the field and the offset.
            err.println(e instanceof dev.gearbox.gguf.GGUFFormatException ? e.getMessage() : file + ": " + e);
            err.flush();
            return 1;
        }
    }
}

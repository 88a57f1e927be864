package dev.gearbox.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/**
 * The output file of a batch job: append-only JSON lines, each written whole and flushed, so a
 * crash loses at most the line being written. Opening it finds what an earlier run finished (the
 * {@code custom_id}s, and the line numbers of input lines that had none) and cuts off a partial
 * last line left by a crash, so the resumed run rewrites that request once.
 */
final class BatchOutput implements AutoCloseable {
    final Set<String> doneIds = new HashSet<>();
    final Set<Integer> doneLines = new HashSet<>();
    /** Bytes of a partial last line removed at open (0 when the file ended cleanly). */
    final long repairedBytes;
    private final OutputStream out;

    BatchOutput(Path file, ObjectMapper json) throws IOException {
        long cut = 0;
        if (Files.exists(file)) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long size = ch.size();
                long keep = lastNewlineEnd(ch, size);
                if (keep < size) {
                    ch.truncate(keep);
                    cut = size - keep;
                }
            }
            int n = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                n++;
                if (line.isBlank()) continue;
                JsonNode node;
                try {
                    node = json.readTree(line);
                } catch (IOException e) {
                    throw new IOException(file + ": line " + n + " is not valid JSON; not a batch output file this job can resume ("
                            + InputParser.firstLine(e.getMessage()) + ")");
                }
                JsonNode id = node.get("custom_id");
                if (id != null && id.isTextual()) doneIds.add(id.asText());
                else if (node.path("error").path("line").isInt()) doneLines.add(node.path("error").path("line").asInt());
            }
        }
        repairedBytes = cut;
        out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    }

    /** End of the last complete line: everything after the last '\n' is a partial line. */
    private static long lastNewlineEnd(FileChannel ch, long size) throws IOException {
        var buf = java.nio.ByteBuffer.allocate(8192);
        long pos = size;
        while (pos > 0) {
            int len = (int) Math.min(buf.capacity(), pos);
            buf.clear().limit(len);
            long from = pos - len;
            int read = 0;
            while (read < len) read += ch.read(buf, from + read);
            for (int i = len - 1; i >= 0; i--) if (buf.get(i) == '\n') return from + i + 1;
            pos = from;
        }
        return 0;
    }

    /** Writes one line and flushes it; safe from several threads. */
    synchronized void append(String jsonLine) throws IOException {
        out.write((jsonLine + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}

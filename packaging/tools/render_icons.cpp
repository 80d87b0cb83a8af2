// render_icons: turns the SVG application icon into the PNG sizes of the hicolor theme and a
// multi-size Windows .ico. The outputs are committed under resources/icons/, so normal builds
// need neither this tool nor an SVG renderer; rebuild them after editing the SVG with
//   cmake --build build --target grym-render-icons && build/packaging/grym-render-icons \
//         resources/icons/grym-synth.svg resources/icons
// Rendering goes through Qt's SVG image-format plugin (libqsvg), so only Qt6::Gui is linked.
#include <QBuffer>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QtEndian>

#include <cstdio>
#include <vector>

namespace {

constexpr int kPngSizes[] = {16, 22, 24, 32, 48, 64, 128, 256, 512};
// Windows shows 16..48 in lists and 256 in large views; PNG-compressed entries are valid in .ico.
constexpr int kIcoSizes[] = {16, 24, 32, 48, 64, 128, 256};

QImage render(const QString& svgPath, int size) {
    QImageReader reader(svgPath, "svg");
    reader.setScaledSize(QSize(size, size));
    QImage image = reader.read();
    if (image.isNull()) {
        std::fprintf(stderr, "render_icons: cannot render %s at %dpx: %s\n", qPrintable(svgPath), size,
                     qPrintable(reader.errorString()));
        std::exit(1);
    }
    return image.convertToFormat(QImage::Format_ARGB32);
}

QByteArray pngBytes(const QImage& image) {
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return bytes;
}

void appendLe16(QByteArray& out, quint16 v) {
    v = qToLittleEndian(v);
    out.append(reinterpret_cast<const char*>(&v), 2);
}

void appendLe32(QByteArray& out, quint32 v) {
    v = qToLittleEndian(v);
    out.append(reinterpret_cast<const char*>(&v), 4);
}

// ICONDIR header, one 16-byte ICONDIRENTRY per image, then the PNG streams back to back.
QByteArray icoFile(const std::vector<QByteArray>& pngs, const std::vector<int>& sizes) {
    QByteArray out;
    appendLe16(out, 0);  // reserved
    appendLe16(out, 1);  // type: icon
    appendLe16(out, static_cast<quint16>(pngs.size()));
    quint32 offset = 6 + 16 * static_cast<quint32>(pngs.size());
    for (size_t i = 0; i < pngs.size(); ++i) {
        const int side = sizes[i] >= 256 ? 0 : sizes[i];  // 0 encodes 256
        out.append(static_cast<char>(side));
        out.append(static_cast<char>(side));
        out.append(char(0));  // palette colours
        out.append(char(0));  // reserved
        appendLe16(out, 1);   // colour planes
        appendLe16(out, 32);  // bits per pixel
        appendLe32(out, static_cast<quint32>(pngs[i].size()));
        appendLe32(out, offset);
        offset += static_cast<quint32>(pngs[i].size());
    }
    for (const auto& png : pngs) out.append(png);
    return out;
}

bool writeFile(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size()) {
        std::fprintf(stderr, "render_icons: cannot write %s\n", qPrintable(path));
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (argc != 3) {
        std::fprintf(stderr, "usage: render_icons ICON.svg OUT_DIR\n");
        return 2;
    }
    const QString svg = QString::fromLocal8Bit(argv[1]);
    const QDir out(QString::fromLocal8Bit(argv[2]));
    const QString name = QFileInfo(svg).completeBaseName();

    for (int size : kPngSizes) {
        const QString dir = QStringLiteral("hicolor/%1x%1/apps").arg(size);
        if (!out.mkpath(dir)) return 1;
        if (!writeFile(out.filePath(dir + "/" + name + ".png"), pngBytes(render(svg, size)))) return 1;
    }
    std::vector<QByteArray> pngs;
    std::vector<int> sizes;
    for (int size : kIcoSizes) {
        pngs.push_back(pngBytes(render(svg, size)));
        sizes.push_back(size);
    }
    return writeFile(out.filePath(name + ".ico"), icoFile(pngs, sizes)) ? 0 : 1;
}

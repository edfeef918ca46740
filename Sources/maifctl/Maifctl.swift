import MAIFCommands

@main
enum Maifctl {
    static func main() async {
        await MaifctlCommand.runAndShutDown()
    }
}

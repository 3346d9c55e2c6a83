// Runs one example of docs/GUIDE.md by name; the files it needs come from the guide's commands.
switch (args.FirstOrDefault())
{
    case "streaming": StreamingExample.Run(); break;
    case "import": ImportExample.Run(); break;
    case "tagger": TaggerExample.Run(); break;
    default: Console.Error.WriteLine("usage: GuideExamples streaming|import|tagger"); return 2;
}
return 0;

#include "cli/bash_completion.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

namespace grym::cli {

namespace {

// How a value is completed, read from the option's type name (the convention is described in
// typed_options.h).
struct ValueCompletion {
    std::string kind;   // "folders", "files", "words" or "none"
    std::string words;  // for "words": the choices, space-separated
};

// Only characters that need no quoting inside the script's double-quoted word lists.
bool safeWord(const std::string& word) {
    return !word.empty() && std::all_of(word.begin(), word.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':' || c == '+' || c == '/';
    });
}

bool hasCapital(const std::string& word) {
    return std::any_of(word.begin(), word.end(), [](unsigned char c) { return std::isupper(c); });
}

ValueCompletion completionOf(const CLI::Option& option) {
    // A positional shows its name in help instead of a type name ("FILE...", not "FILE FILE...").
    const std::string type = option.get_type_name().empty() ? option.get_name() : option.get_type_name();
    if (type.find('|') != std::string::npos || !hasCapital(type)) {
        std::string words;
        std::istringstream choices(type);
        for (std::string word; std::getline(choices, word, '|');)
            if (!hasCapital(word) && safeWord(word)) words += (words.empty() ? "" : " ") + word;
        return {"words", words};
    }
    const auto endsWith = [&](const std::string& tail) {
        return type.size() >= tail.size() && type.compare(type.size() - tail.size(), tail.size(), tail) == 0;
    };
    if (endsWith("DIR")) return {"folders", ""};
    if (type.find("FILE") != std::string::npos || type.find('.') != std::string::npos) return {"files", ""};
    return {"none", ""};
}

bool isSwitch(const CLI::Option& option) { return option.get_items_expected_max() == 0; }

std::vector<std::string> namesOf(const CLI::Option& option) {
    std::vector<std::string> names;
    for (const auto& name : option.get_snames()) names.push_back("-" + name);
    for (const auto& name : option.get_lnames()) names.push_back("--" + name);
    return names;
}

std::string keyOf(const CLI::App& command) {
    std::string key = command.get_name();
    for (const CLI::App* parent = command.get_parent(); parent; parent = parent->get_parent())
        key = parent->get_name() + "/" + key;
    return key;
}

std::vector<const CLI::App*> subcommandsOf(const CLI::App& command) {
    return command.get_subcommands([](const CLI::App*) { return true; });
}

// Every command below and including `command`, parents first.
void collect(const CLI::App& command, std::vector<const CLI::App*>& out) {
    out.push_back(&command);
    for (const CLI::App* sub : subcommandsOf(command)) collect(*sub, out);
}

std::string quotedPattern(const std::string& key, const std::string& word) { return "\"" + key + " " + word + "\""; }

}  // namespace

std::string bashCompletionScript(const CLI::App& program) {
    std::vector<const CLI::App*> commands;
    collect(program, commands);
    const std::string function = "_grym_synth_cli";

    std::ostringstream walk, values, lists;
    for (const CLI::App* command : commands) {
        const std::string key = keyOf(*command);
        for (const CLI::App* sub : subcommandsOf(*command))
            walk << "            " << quotedPattern(key, sub->get_name()) << ") command=" << keyOf(*sub) << " ;;\n";

        std::string options, positional = "none";
        std::vector<std::string> takesValue;
        for (const CLI::Option* option : command->get_options()) {
            if (option->get_positional()) {
                if (positional == "none") {  // the first positional stands for all of them
                    const auto completion = completionOf(*option);
                    positional = completion.kind + (completion.words.empty() ? "" : " \"" + completion.words + "\"");
                }
                continue;
            }
            const auto names = namesOf(*option);
            for (const auto& name : names) options += (options.empty() ? "" : " ") + name;
            if (isSwitch(*option)) continue;
            const auto completion = completionOf(*option);
            std::string patterns;
            for (const auto& name : names) {
                patterns += (patterns.empty() ? "" : " | ") + quotedPattern(key, name);
                takesValue.push_back(quotedPattern(key, name));
            }
            values << "        " << patterns << ") " << function << "_values " << completion.kind
                   << (completion.words.empty() ? "" : " \"" + completion.words + "\"") << "; return ;;\n";
        }
        if (!takesValue.empty()) {
            walk << "            ";
            for (size_t i = 0; i < takesValue.size(); ++i) walk << (i ? " | " : "") << takesValue[i];
            walk << ") ((i++)) ;;\n";
        }
        std::string subcommands;
        for (const CLI::App* sub : subcommandsOf(*command))
            subcommands += (subcommands.empty() ? "" : " ") + sub->get_name();
        lists << "        " << key << ")\n"
              << "            options=\"" << options << "\"\n"
              << "            commands=\"" << subcommands << "\"\n"
              << "            positional=(" << positional << ") ;;\n";
    }

    std::ostringstream script;
    script << "# bash completion for " << program.get_name() << ", written by `" << program.get_name()
           << " completion bash`\n"
              "# from the program's own command-line definition: regenerate it rather than edit it.\n\n"
           << function << "_values() {  # KIND [WORDS]: completions of one value\n"
              "    case $1 in\n"
              "        folders) mapfile -t COMPREPLY < <(compgen -d -- \"$cur\") ;;\n"
              "        files) mapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
              "        words) mapfile -t COMPREPLY < <(compgen -W \"$2\" -- \"$cur\") ;;\n"
              "        *) COMPREPLY=() ;;\n"
              "    esac\n"
              "}\n\n"
           << function << "() {\n"
              "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
              "    local command=" << keyOf(program) << " i options commands positional\n"
              "    # Follow the commands named so far, stepping over the value of each option that takes one.\n"
              "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
              "        case \"$command ${COMP_WORDS[i]}\" in\n"
           << walk.str()
           << "        esac\n"
              "    done\n"
              "    # The value of the option just typed.\n"
              "    case \"$command $prev\" in\n"
           << values.str()
           << "    esac\n"
              "    case $command in\n"
           << lists.str()
           << "    esac\n"
              "    if [[ $cur == -* ]]; then\n"
              "        mapfile -t COMPREPLY < <(compgen -W \"$options\" -- \"$cur\")\n"
              "    elif [[ -n $commands ]]; then\n"
              "        mapfile -t COMPREPLY < <(compgen -W \"$commands\" -- \"$cur\")\n"
              "    else\n"
              "        " << function << "_values \"${positional[@]}\"\n"
              "    fi\n"
              "}\n\n"
              "complete -o filenames -F " << function << " " << program.get_name() << "\n";
    return script.str();
}

}  // namespace grym::cli

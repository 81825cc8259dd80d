/**
 * The completion scripts: `kubectl_complete-calico_tune` (kubectl >= 1.26 runs it for `kubectl calico-tune
 * <TAB>`; shipped in the krew archive by scripts/package.js and written by `completion install`), and the
 * bash, zsh and fish scripts for the binary called directly. All of them ask `kubectl-calico_tune __complete`
 * (src/cli/complete.ts), so they never change when commands do.
 */
export const BIN = 'kubectl-calico_tune';
export const KUBECTL_COMPLETE_BIN = 'kubectl_complete-calico_tune';

export function kubectlCompleteScript(): string {
  return `#!/bin/sh
# kubectl >= 1.26 completes \`kubectl calico-tune ...\` by running this file (found on PATH) with the words
# typed after the plugin name. Written by \`kubectl calico-tune completion install\`.
exec ${BIN} __complete "$@"
`;
}

export function bashScript(): string {
  return `# bash completion for ${BIN}: source <(${BIN} completion bash)
_kubectl_calico_tune() {
  local cur words cword out directive
  if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
    _get_comp_words_by_ref -n =: cur words cword
  else
    cur="\${COMP_WORDS[COMP_CWORD]}"; words=("\${COMP_WORDS[@]}"); cword=$COMP_CWORD
  fi
  out=$("\${words[0]}" __completeNoDesc "\${words[@]:1:cword-1}" "$cur" 2>/dev/null) || return
  directive=\${out##*:}
  out=\${out%:*}
  local IFS=$'\\n'
  if (( (directive & 8) != 0 )); then
    local ext
    ext=$(printf '%s|' $out)
    COMPREPLY=($(compgen -f -- "$cur" | grep -E "\\\\.(\${ext%|})\\$") $(compgen -d -- "$cur"))
    compopt -o filenames 2>/dev/null
    return
  fi
  if (( (directive & 16) != 0 )); then
    COMPREPLY=($(compgen -d -- "$cur"))
    compopt -o filenames 2>/dev/null
    return
  fi
  COMPREPLY=($(compgen -W "$out" -- "$cur"))
  if (( \${#COMPREPLY[@]} == 0 && (directive & 4) == 0 )); then
    COMPREPLY=($(compgen -f -- "$cur"))
    compopt -o filenames 2>/dev/null
  fi
  if (( (directive & 2) != 0 )); then compopt -o nospace 2>/dev/null; fi
  if declare -F __ltrim_colon_completions >/dev/null 2>&1; then __ltrim_colon_completions "$cur"; fi
}
complete -F _kubectl_calico_tune ${BIN}
`;
}

export function zshScript(): string {
  return `#compdef ${BIN}
# zsh completion for ${BIN}: source <(${BIN} completion zsh)
_kubectl_calico_tune() {
  local out directive l
  local -a lines cands
  out=$("\${words[1]}" __complete "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null) || return
  lines=("\${(@f)out}")
  directive=\${lines[-1]#:}
  lines=("\${(@)lines[1,-2]}")
  if (( directive & 8 )); then _files -g "*.(\${(j:|:)lines})"; return; fi
  if (( directive & 16 )); then _files -/; return; fi
  for l in $lines; do
    if [[ $l == *$'\\t'* ]]; then cands+=("\${\${l%%$'\\t'*}//:/\\\\:}:\${l#*$'\\t'}"); else cands+=("\${l//:/\\\\:}"); fi
  done
  if (( \${#cands} )); then
    _describe '${BIN}' cands
  elif (( ! (directive & 4) )); then
    _files
  fi
}
compdef _kubectl_calico_tune ${BIN}
`;
}

export function fishScript(): string {
  return `# fish completion for ${BIN}: ${BIN} completion fish | source
function __kubectl_calico_tune_complete
    set -l args (commandline -opc)[2..-1]
    set -l out (${BIN} __complete $args (commandline -ct) 2>/dev/null)
    test (count $out) -gt 0; or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    set -e out[-1]
    if test (math "bitand($directive, 8)") -ne 0
        for e in $out
            __fish_complete_suffix .$e
        end
        return
    end
    if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories
        return
    end
    printf '%s\\n' $out
end
complete -c ${BIN} -f -a '(__kubectl_calico_tune_complete)'
`;
}

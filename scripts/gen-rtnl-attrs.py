#!/usr/bin/env python3
# Generates src/rtnl/attrs.ts from the kernel uapi headers: every member of the
# listed attribute enums as a constant with its uapi name, plus a name table per
# enum for error messages. Usage:
#   python3 scripts/gen-rtnl-attrs.py IFLA_UNSPEC,IFLA_INFO_UNSPEC,... > src/rtnl/attrs.ts
import re,sys
def blocks(path):
    src=open(path).read()
    src=re.sub(r'/\*.*?\*/','',src,flags=re.S); src=re.sub(r'//[^\n]*','',src); src=re.sub(r'#define[^\n]*','',src)
    res=[]
    for m in re.finditer(r'enum\s*\w*\s*\{(.*?)\}',src,flags=re.S):
        val=-1; ents=[]; env={}
        for ent in m.group(1).split(','):
            ent=ent.strip()
            if not ent: continue
            if '=' in ent:
                n,v=[x.strip() for x in ent.split('=',1)]
                if v in env: val=env[v]
                else:
                    try: val=int(eval(v.replace('U',''),{},env))
                    except Exception: continue
                alias = v in env
            else: n=ent; val+=1; alias=False
            env[n]=val
            if not n.startswith('__') and not alias: ents.append((n,val))
        res.append(ents)
    return res
allb=[]
for p in ['/usr/include/linux/if_link.h','/usr/include/linux/rtnetlink.h','/usr/include/linux/if_addr.h','/usr/include/linux/veth.h','/usr/include/linux/neighbour.h']:
    allb+=blocks(p)
want=sys.argv[1].split(',')
out=[]
for first in want:
    b=[b for b in allb if b and b[0][0]==first]
    if not b: print('MISSING',first,file=sys.stderr); continue
    b=b[0]
    space=first.replace('_UNSPEC','')
    out.append(f'// enum {{ {first}, ... }}')
    line=''
    for n,v in b:
        out.append(f'export const {n} = {v};')
    names=[None]*(max(v for _,v in b)+1)
    for n,v in b:
        if names[v] is None: names[v]=n
    out.append(f"export const {space}_NAMES: readonly (string | undefined)[] = [{', '.join(repr(x) if x else 'undefined' for x in names)}];".replace("'",'"'))
    out.append('')
print('\n'.join(out))
